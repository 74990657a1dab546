package transport

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LocalHost is the name of the implicit host "this machine".
const LocalHost = "local"

// HostConfig is one entry of the provider's hosts map. An empty Address
// means this machine (the implicit host "local"; the provider's hosts
// always have one).
type HostConfig struct {
	SSHConfig
	// Lazy: Warm leaves the host alone; it is connected when a command
	// first needs it.
	Lazy bool
	// Unknown lists the settings whose values are not known yet (a plan
	// where they come from resources still to be created): the host is
	// configured, but nothing can reach it until they are.
	Unknown []string
}

// Pool hands out one shared transport per configured host.
type Pool struct {
	mu       sync.Mutex
	hosts    map[string]HostConfig
	conns    map[string]Transport
	Observer func(host string, argv []string)
	// hostsUnknown: the hosts map is not known yet (SetHostsUnknown).
	hostsUnknown bool
}

// SetHostsUnknown says that the hosts map itself is not known yet (a plan
// where it is built from resources still to be created): every name but
// "local" may turn out to be configured (Has), and none can be reached.
func (p *Pool) SetHostsUnknown() { p.hostsUnknown = true }

// NewPool returns a pool for hosts; "local" is always present.
func NewPool(hosts map[string]HostConfig) *Pool {
	h := make(map[string]HostConfig, len(hosts)+1)
	for k, v := range hosts {
		v.Name = k
		h[k] = v
	}
	if _, ok := h[LocalHost]; !ok {
		h[LocalHost] = HostConfig{SSHConfig: SSHConfig{Name: LocalHost}}
	}
	return &Pool{hosts: h, conns: map[string]Transport{}}
}

// Names lists the configured hosts, sorted.
func (p *Pool) Names() []string {
	var n []string
	for k := range p.hosts {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Has reports whether name is configured.
func (p *Pool) Has(name string) bool {
	_, ok := p.hosts[name]
	return ok || p.hostsUnknown
}

// Get returns the shared transport for host name.
func (p *Pool) Get(name string) (Transport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.conns[name]; ok {
		return t, nil
	}
	cfg, ok := p.hosts[name]
	if !ok && p.hostsUnknown {
		return nil, fmt.Errorf("host %q cannot be reached yet: the provider's hosts are known only during apply (built from a resource or data source not read yet); "+
			"nothing runs on it before then", name)
	}
	if !ok {
		return nil, fmt.Errorf("host %q is not configured in the provider's hosts (known: %s)", name, strings.Join(p.Names(), ", "))
	}
	if len(cfg.Unknown) > 0 {
		what := "the value of its " + cfg.Unknown[0] + " is"
		if len(cfg.Unknown) > 1 {
			what = "the values of its " + strings.Join(cfg.Unknown, ", ") + " are"
		}
		return nil, fmt.Errorf("host %q cannot be reached yet: %s known only during apply (from a resource or data source not read yet); "+
			"nothing runs on it before then, and no other machine stands in for it", name, what)
	}
	var t Transport
	if cfg.Address == "" {
		// "local", or a host of a test: the provider requires an address
		t = &Local{Name: name, Env: cfg.Env, Sudo: cfg.Sudo, Observer: p.Observer}
	} else {
		s := NewSSH(cfg.SSHConfig)
		s.Observer = p.Observer
		t = s
	}
	p.conns[name] = t
	return t, nil
}

// Warm starts connecting to every SSH host but the lazy ones in the
// background (see SSH.Warm); a connection no command uses within idle is
// closed again.
func (p *Pool) Warm(idle time.Duration) {
	for _, name := range p.Names() {
		if h := p.hosts[name]; h.Address == "" || h.Lazy || len(h.Unknown) > 0 {
			continue
		}
		if t, err := p.Get(name); err == nil {
			if s, ok := t.(*SSH); ok {
				s.Warm(idle)
			}
		}
	}
}

// Secrets returns every secret of every host, for masking.
func (p *Pool) Secrets() []string {
	var s []string
	for _, h := range p.hosts {
		s = append(s, h.Secrets()...)
	}
	return s
}

// Close closes every connection.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.conns {
		_ = t.Close()
	}
	p.conns = map[string]Transport{}
	return nil
}

// Counters are process-wide totals, for tests and benchmarks.
type Counters struct {
	Dials    map[string]int64 // connections opened, warm ones included
	Warm     map[string]int64 // of which by Warm, before any command asked
	Commands map[string]int64
}

var (
	counterMu sync.Mutex
	dials     = map[string]*atomic.Int64{}
	warms     = map[string]*atomic.Int64{}
	commands  = map[string]*atomic.Int64{}
)

func counter(m map[string]*atomic.Int64, host string) *atomic.Int64 {
	counterMu.Lock()
	defer counterMu.Unlock()
	return counterLocked(m, host)
}

func counterLocked(m map[string]*atomic.Int64, host string) *atomic.Int64 {
	c, ok := m[host]
	if !ok {
		c = new(atomic.Int64)
		m[host] = c
	}
	return c
}

// countDial counts a connection, and a warm one in both counters at once
// (under the lock Snapshot takes, so that no snapshot sees half of it).
func countDial(host string, warm bool) {
	counterMu.Lock()
	defer counterMu.Unlock()
	counterLocked(dials, host).Add(1)
	if warm {
		counterLocked(warms, host).Add(1)
	}
}

func countCommand(host string) { counter(commands, host).Add(1) }

// Snapshot returns the current counters.
func Snapshot() Counters {
	counterMu.Lock()
	defer counterMu.Unlock()
	c := Counters{Dials: map[string]int64{}, Warm: map[string]int64{}, Commands: map[string]int64{}}
	for k, v := range dials {
		c.Dials[k] = v.Load()
	}
	for k, v := range warms {
		c.Warm[k] = v.Load()
	}
	for k, v := range commands {
		c.Commands[k] = v.Load()
	}
	return c
}

// Total sums a counter map.
func Total(m map[string]int64) int64 {
	var t int64
	for _, v := range m {
		t += v
	}
	return t
}
