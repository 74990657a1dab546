package restore

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Source kinds.
const (
	KindArchive = "archive"
	KindGDS     = "gds"
	KindKCPS    = "kcps"
)

// Modes.
const (
	// ModeDrill restores into a new target that is removed again when the
	// drill is destroyed.
	ModeDrill = "drill"
	// ModeInPlace restores over the live target. It must be confirmed with
	// the target's identity.
	ModeInPlace = "in_place"
)

// Step statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// ReportVersion is the version of the report's JSON layout.
const ReportVersion = 1

// Report is the record of one restore. Its JSON form is what the provider
// stores in the `report` attribute.
type Report struct {
	Version int    `json:"version"`
	Kind    string `json:"kind"`
	Mode    string `json:"mode"`
	// Target is the identity of what was restored onto (see Identity).
	Target string `json:"target"`
	// Source describes the backup restored (generation, file, checksum,
	// snapshot ids...).
	Source map[string]string `json:"source,omitempty"`
	// BackupCreated is when the restored backup was taken.
	BackupCreated *time.Time `json:"backup_created,omitempty"`
	StartedAt     time.Time  `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	RPOSeconds    *int64     `json:"rpo_seconds,omitempty"`
	RTOSeconds    *int64     `json:"rto_seconds,omitempty"`
	MaxRPO        string     `json:"max_rpo,omitempty"`
	MaxRTO        string     `json:"max_rto,omitempty"`
	Steps         []Step     `json:"steps"`
	Checks        []Check    `json:"checks"`
	Notes         []string   `json:"notes,omitempty"`
	// Created lists what the restore made (drill targets, KCPS objects).
	Created  []Object `json:"created,omitempty"`
	Verified bool     `json:"verified"`
	// Error is the failure that ended the restore, if any.
	Error string `json:"error,omitempty"`
}

// Step is one timed action.
type Step struct {
	Name      string    `json:"name"`
	Host      string    `json:"host,omitempty"`
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"seconds"`
	Status    string    `json:"status"`
	Detail    string    `json:"detail,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// Check is one verification with its outcome.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Object is something a restore created.
type Object struct {
	Type string `json:"type"` // directory, template, virtual_machine, volume
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() string {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		// Report holds only plain values; this cannot happen.
		panic(err)
	}
	return string(b)
}

// Recorder builds a Report as a restore goes. It is safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	now func() time.Time
	rep *Report
	// secrets are masked in everything recorded (command output, errors).
	secrets []string
}

func (r *Recorder) mask(s string) string {
	if len(r.secrets) == 0 || s == "" {
		return s
	}
	return transport.Mask(s, r.secrets...)
}

// NewRecorder starts a report; now is the clock.
func NewRecorder(now func() time.Time, rep *Report) *Recorder {
	if now == nil {
		now = time.Now
	}
	if rep.Version == 0 {
		rep.Version = ReportVersion
	}
	if rep.Steps == nil {
		rep.Steps = []Step{}
	}
	if rep.Checks == nil {
		rep.Checks = []Check{}
	}
	return &Recorder{now: now, rep: rep}
}

// Now reads the recorder's clock.
func (r *Recorder) Now() time.Time { return r.now().UTC() }

// Step runs fn as a named step on host and records its duration and
// outcome. fn returns a short detail for the report.
//
// Steps are listed in the order they started: a step that runs others
// inside fn comes before them.
func (r *Recorder) Step(name, host string, fn func() (string, error)) error {
	start := r.Now()
	r.mu.Lock()
	i := len(r.rep.Steps)
	r.rep.Steps = append(r.rep.Steps, Step{Name: r.mask(name), Host: host, StartedAt: start, Status: "running"})
	r.mu.Unlock()
	detail, err := fn()
	end := r.Now()
	s := Step{Name: r.mask(name), Host: host, StartedAt: start, Seconds: seconds(end.Sub(start)), Status: StatusOK, Detail: r.mask(detail)}
	if err != nil {
		s.Status, s.Error = StatusFailed, r.mask(err.Error())
	}
	r.mu.Lock()
	r.rep.Steps[i] = s
	r.mu.Unlock()
	return err
}

// Skip records a step that was not run, and why.
func (r *Recorder) Skip(name, host, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Steps = append(r.rep.Steps, Step{Name: r.mask(name), Host: host, StartedAt: r.now().UTC(), Status: StatusSkipped, Detail: r.mask(why)})
}

// Check records a check.
func (r *Recorder) Check(name string, ok bool, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Checks = append(r.rep.Checks, Check{Name: r.mask(name), OK: ok, Detail: r.mask(detail)})
}

// Note adds a note once.
func (r *Recorder) Note(s string) {
	s = r.mask(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.rep.Notes {
		if n == s {
			return
		}
	}
	r.rep.Notes = append(r.rep.Notes, s)
}

// Created records an object the restore made.
func (r *Recorder) Created(o Object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Created = append(r.rep.Created, o)
}

// Report returns a copy of the report so far.
func (r *Recorder) Report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *r.rep
	c.Steps = append([]Step{}, r.rep.Steps...)
	c.Checks = append([]Check{}, r.rep.Checks...)
	c.Notes = append([]string(nil), r.rep.Notes...)
	c.Created = append([]Object(nil), r.rep.Created...)
	return c
}

func (r *Recorder) update(fn func(*Report)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.rep)
}

// seconds rounds d to milliseconds, in seconds.
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}
