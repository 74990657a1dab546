package kcpsemu

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Emulator is the KCPS API as an http.Handler.
type Emulator struct {
	mu        sync.Mutex
	now       func() time.Time
	scale     float64
	perGB     float64
	maxPage   int
	admin     bool
	byKey     map[string]*account
	byName    map[string]*account
	zones     []Zone
	offerings []ServiceOffering
	networks  []Network
	ostypes   []OSType
	vms       map[string]*vm
	volumes   map[string]*volume
	snapshots map[string]*snapshot
	policies  map[string]*policy
	templates map[string]*template
	jobs      map[string]*job
	seq       int

	faultState
}

var _ http.Handler = (*Emulator)(nil)

// New builds an emulator from cfg.
func New(cfg Config) (*Emulator, error) {
	e := &Emulator{
		now: cfg.Now, scale: cfg.TimeScale, perGB: cfg.SnapshotSecondsPerGB, maxPage: cfg.MaxPageSize,
		admin: cfg.Admin, byKey: map[string]*account{}, byName: map[string]*account{},
		zones: cfg.Zones, offerings: cfg.ServiceOfferings, networks: cfg.Networks, ostypes: cfg.OSTypes,
		vms: map[string]*vm{}, volumes: map[string]*volume{}, snapshots: map[string]*snapshot{},
		policies: map[string]*policy{}, templates: map[string]*template{}, jobs: map[string]*job{},
	}
	e.init()
	if e.now == nil {
		e.now = time.Now
	}
	if e.scale <= 0 {
		e.scale = 1
	}
	if e.perGB <= 0 {
		e.perGB = 108
	}
	if e.maxPage <= 0 {
		e.maxPage = 500
	}
	if len(cfg.Accounts) == 0 {
		return nil, fmt.Errorf("kcpsemu: at least one account is required")
	}
	for _, a := range cfg.Accounts {
		if a.Name == "" || a.APIKey == "" || a.SecretKey == "" {
			return nil, fmt.Errorf("kcpsemu: account needs name, api_key and secret_key")
		}
		acc := &account{Name: a.Name, APIKey: a.APIKey, Secret: a.SecretKey, ID: newID(), DomainID: newID()}
		e.byKey[a.APIKey] = acc
		e.byName[a.Name] = acc
	}
	now := e.now()
	zoneOK := func(id string) bool {
		for _, z := range e.zones {
			if z.ID == id {
				return true
			}
		}
		return false
	}
	for _, v := range cfg.VMs {
		if e.byName[v.Account] == nil || !zoneOK(v.ZoneID) || v.ID == "" {
			return nil, fmt.Errorf("kcpsemu: vm %q: unknown account or zone, or no id", v.Name)
		}
		st := v.State
		if st == "" {
			st = "Running"
		}
		so := v.ServiceOfferingID
		if so == "" && len(e.offerings) > 0 {
			so = e.offerings[0].ID
		}
		e.vms[v.ID] = &vm{seq: e.nextSeq(), ID: v.ID, Name: v.Name, Display: v.Name, Account: v.Account,
			ZoneID: v.ZoneID, State: st, ServiceOfferingID: so, TemplateID: v.TemplateID, Created: now.Add(-30 * 24 * time.Hour)}
	}
	for _, v := range cfg.Volumes {
		if e.byName[v.Account] == nil || !zoneOK(v.ZoneID) || v.ID == "" {
			return nil, fmt.Errorf("kcpsemu: volume %q: unknown account or zone, or no id", v.Name)
		}
		if v.VMID != "" && e.vms[v.VMID] == nil {
			return nil, fmt.Errorf("kcpsemu: volume %q: unknown vm %q", v.Name, v.VMID)
		}
		t := v.Type
		if t == "" {
			t = "DATADISK"
		}
		e.volumes[v.ID] = &volume{seq: e.nextSeq(), ID: v.ID, Name: v.Name, Account: v.Account, ZoneID: v.ZoneID,
			Type: t, VMID: v.VMID, SizeGB: v.SizeGB, Created: now.Add(-30 * 24 * time.Hour)}
	}
	for _, s := range cfg.Snapshots {
		if _, err := e.addSnapshot(s); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *Emulator) addSnapshot(s Snapshot) (string, error) {
	v := e.volumes[s.VolumeID]
	if v == nil {
		return "", fmt.Errorf("kcpsemu: snapshot %q: unknown volume %q", s.ID, s.VolumeID)
	}
	if s.ID == "" {
		s.ID = newID()
	}
	if s.Created.IsZero() {
		s.Created = e.now()
	}
	it := strings.ToUpper(s.IntervalType)
	if it == "" {
		it = "MANUAL"
	}
	name := s.Name
	if name == "" {
		name = e.snapshotName(v, s.Created)
	}
	e.snapshots[s.ID] = &snapshot{seq: e.nextSeq(), ID: s.ID, Name: name, Account: v.Account, VolumeID: v.ID,
		VolumeName: v.Name, VolumeType: v.Type, ZoneID: v.ZoneID, IntervalType: it, State: "BackedUp", Created: s.Created}
	return s.ID, nil
}

func (e *Emulator) snapshotName(v *volume, t time.Time) string {
	prefix := "detached"
	if m := e.vms[v.VMID]; m != nil {
		prefix = m.Name
	}
	return fmt.Sprintf("%s_%s_%s", prefix, v.Name, t.In(jst).Format("20060102150405"))
}

var jst = time.FixedZone("JST", 9*3600)

// csError is an error answer.
type csError struct {
	Code int // errorcode and HTTP status
	CS   int // cserrorcode
	Text string
}

func errParam(format string, a ...any) *csError {
	return &csError{Code: 431, CS: 4350, Text: fmt.Sprintf(format, a...)}
}

func errInUse(format string, a ...any) *csError {
	return &csError{Code: 536, CS: 4400, Text: fmt.Sprintf(format, a...)}
}

// call is one request being handled.
type call struct {
	cmd  string
	acct *account
	p    url.Values
	now  time.Time
}

func (c *call) get(k string) string { return strings.TrimSpace(c.p.Get(k)) }

// excludes reports whether the filter parameter k is given and differs from v.
func (c *call) excludes(k, v string) bool {
	f := c.get(k)
	return f != "" && f != v
}

// excludesFold is excludes with a case-insensitive comparison.
func (c *call) excludesFold(k, v string) bool {
	f := c.get(k)
	return f != "" && !strings.EqualFold(f, v)
}

func (c *call) required(keys ...string) *csError {
	var miss []string
	for _, k := range keys {
		if c.get(k) == "" {
			miss = append(miss, k)
		}
	}
	if len(miss) > 0 {
		return errParam("Unable to execute API command %s due to missing parameter %s", strings.ToLower(c.cmd), strings.Join(miss, ", "))
	}
	return nil
}

type handlerFunc func(e *Emulator, c *call) (any, *csError)

// ServeHTTP answers /client/api (any path works) and, with Admin, /_emu/.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emu/") {
		if !e.admin {
			http.NotFound(w, r)
			return
		}
		e.serveAdmin(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeJSON(w, 405, "errorresponse", errBody(&csError{Code: 405, CS: 9999, Text: "method not allowed"}))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 430, "errorresponse", errBody(&csError{Code: 430, CS: 9999, Text: "malformed request: " + err.Error()}))
		return
	}
	p := r.Form
	cmd := p.Get("command")
	key := strings.ToLower(cmd) + "response"
	if cmd == "" {
		key = "errorresponse"
	}
	e.count(cmd)

	// Faults first: they stand for trouble in front of the application.
	f := e.pickFault(cmd)
	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-r.Context().Done():
			return
		}
	}
	switch f.kind {
	case FaultError:
		if e.faultRand() < 0.5 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1></body></html>"))
		} else {
			writeJSON(w, 530, key, errBody(&csError{Code: 530, CS: 9999, Text: "Internal error executing command, please contact your system administrator"}))
		}
		return
	case FaultTooMany:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 429, key, errBody(&csError{Code: 429, CS: 9999, Text: "The maximum number of api requests per second has been exceeded"}))
		return
	case FaultDrop:
		dropConn(w)
		return
	}

	if cmd == "" {
		writeJSON(w, 432, key, errBody(&csError{Code: 432, CS: 9999, Text: "The given command does not exist or it is not available for user"}))
		return
	}
	acct, aerr := e.authenticate(p)
	if aerr != nil {
		e.countAuthFailure()
		writeJSON(w, 401, key, errBody(aerr))
		return
	}
	h, ok := handlers[strings.ToLower(cmd)]
	if !ok {
		writeJSON(w, 432, key, errBody(&csError{Code: 432, CS: 9999, Text: "The given command does not exist or it is not available for user"}))
		return
	}
	e.mu.Lock()
	now := e.tick()
	body, cerr := h(e, &call{cmd: cmd, acct: acct, p: p, now: now})
	e.mu.Unlock()
	if f.kind == FaultDropAfter {
		dropConn(w)
		return
	}
	if cerr != nil {
		writeJSON(w, cerr.Code, key, errBody(cerr))
		return
	}
	writeJSON(w, 200, key, body)
}

func errBody(c *csError) map[string]any {
	return map[string]any{"uuidList": []string{}, "errorcode": c.Code, "cserrorcode": c.CS, "errortext": c.Text}
}

func writeJSON(w http.ResponseWriter, status int, key string, body any) {
	if body == nil {
		body = map[string]any{}
	}
	b, err := json.Marshal(map[string]any{key: body})
	if err != nil {
		status = 530
		b = []byte(`{"errorresponse":{"errorcode":530,"errortext":"encoding failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func dropConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// authenticate checks apiKey and signature the way the CloudStack 4.3
// server does: every parameter but signature, names sorted as sent, values
// URL-encoded like java.net.URLEncoder with '+' turned into %20, the whole
// string lower-cased, HMAC-SHA1 with the account's secret, base64.
func (e *Emulator) authenticate(p url.Values) (*account, *csError) {
	bad := &csError{Code: 401, CS: 9999, Text: "unable to verify user credentials and/or request signature"}
	key, sig := p.Get("apiKey"), p.Get("signature")
	if key == "" || sig == "" {
		return nil, bad
	}
	acct := e.byKey[key]
	if acct == nil {
		return nil, bad
	}
	names := make([]string, 0, len(p))
	for k := range p {
		if !strings.EqualFold(k, "signature") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + javaURLEncode(p.Get(k))
	}
	unsigned := strings.ToLower(strings.Join(parts, "&"))
	m := hmac.New(sha1.New, []byte(acct.Secret))
	m.Write([]byte(unsigned))
	want := m.Sum(nil)
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return nil, bad
	}
	if p.Get("signatureversion") == "3" {
		exp, err := time.Parse("2006-01-02T15:04:05-0700", p.Get("expires"))
		if err != nil || e.now().After(exp) {
			return nil, bad
		}
	}
	return acct, nil
}

// javaURLEncode mimics URLEncoder.encode(v, "UTF-8").replaceAll("\\+", "%20").
func javaURLEncode(v string) string {
	s := url.QueryEscape(v) // spaces as '+', keeps - _ . ~
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "%2A", "*")
	s = strings.ReplaceAll(s, "~", "%7E")
	return s
}
