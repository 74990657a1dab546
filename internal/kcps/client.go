package kcps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Client.
type Config struct {
	Endpoint  string // https://<portal>/client/api
	APIKey    string
	SecretKey string

	// HTTPClient is used for idempotent calls (nil: a client with a 5 min
	// timeout). Non-idempotent calls use a copy of its transport with
	// keep-alives off, so that net/http never replays them on a reused
	// connection.
	HTTPClient *http.Client
	Clock      Clock       // nil: RealClock
	Poll       PollPolicy  // zero: DefaultPollPolicy
	Retry      RetryPolicy // zero: DefaultRetryPolicy
	PageSize   int         // list page size (0: 500)
	// SignatureVersion3 adds signatureversion=3 and expires (newer
	// CloudStack); KCPS 4.3 clients never send them, so it is off.
	SignatureVersion3 bool
	// UsePOST sends every call as a POST form instead of GET.
	UsePOST bool
	// Logf, when set, receives one line per call and per retry (never a
	// secret), with the context of the call, so that callers can log it in
	// their own request scope.
	Logf func(ctx context.Context, format string, args ...any)
	// Rand returns numbers in [0,1) for jitter (nil: math/rand).
	Rand func() float64
}

// Client talks to one KCPS account.
type Client struct {
	cfg    Config
	idem   *http.Client
	unsafe *http.Client
	clock  Clock
	poll   PollPolicy
	retry  RetryPolicy
	rndMu  sync.Mutex
	lock   *accountLock
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("kcps: endpoint is required")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kcps: endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	if cfg.APIKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("kcps: api key and secret key are required")
	}
	c := &Client{cfg: cfg, clock: cfg.Clock, poll: cfg.Poll.withDefaults(), retry: cfg.Retry.withDefaults()}
	if c.clock == nil {
		c.clock = RealClock{}
	}
	c.idem = cfg.HTTPClient
	if c.idem == nil {
		c.idem = &http.Client{Timeout: 5 * time.Minute}
	}
	c.unsafe = noReplayClient(c.idem)
	if c.cfg.PageSize <= 0 {
		c.cfg.PageSize = 500
	}
	c.lock = lockFor(cfg.Endpoint, cfg.APIKey)
	return c, nil
}

// noReplayClient copies hc with keep-alives disabled: net/http silently
// re-sends a GET that failed on a reused connection, which for createSnapshot
// would mean a second snapshot.
func noReplayClient(hc *http.Client) *http.Client {
	cp := *hc
	var base *http.Transport
	switch t := hc.Transport.(type) {
	case nil:
		base = http.DefaultTransport.(*http.Transport)
	case *http.Transport:
		base = t
	default:
		return &cp
	}
	tr := base.Clone()
	tr.DisableKeepAlives = true
	cp.Transport = tr
	return &cp
}

// Endpoint returns the configured endpoint.
func (c *Client) Endpoint() string { return c.cfg.Endpoint }

// Clock returns the client's clock.
func (c *Client) Clock() Clock { return c.clock }

// PollPolicy returns the effective poll schedule.
func (c *Client) PollPolicy() PollPolicy { return c.poll }

func (c *Client) rand() float64 {
	if c.cfg.Rand != nil {
		return c.cfg.Rand()
	}
	c.rndMu.Lock()
	defer c.rndMu.Unlock()
	return rand.Float64()
}

func (c *Client) logf(ctx context.Context, format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(ctx, format, args...)
	}
}

// Idempotency says whether a call may be retried blindly.
type Idempotency bool

const (
	// Safe calls (lists, job queries) are retried on 429, 5xx and dropped
	// connections.
	Safe Idempotency = true
	// Unsafe calls (create, delete, start, stop) are sent once; an unknown
	// outcome comes back as *AmbiguousError.
	Unsafe Idempotency = false
)

// Call sends command with params and returns the body inside
// "<command>response". params is not modified.
func (c *Client) Call(ctx context.Context, command string, params url.Values, idem Idempotency) ([]byte, error) {
	want := strings.ToLower(command) + "response"
	for attempt := 1; ; attempt++ {
		body, retryAfter, err := c.once(ctx, command, params, idem)
		if err == nil {
			raw, uerr := unwrap(body, want)
			if uerr != nil {
				return nil, uerr
			}
			// Some servers answer 200 with an error inside.
			if ae := inlineError(command, raw); ae != nil {
				return nil, ae
			}
			return raw, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if idem == Unsafe || !transient(err) || attempt >= c.retry.Attempts {
			if idem == Unsafe && maybeCarriedOut(err) {
				return nil, &AmbiguousError{Command: command, Err: err}
			}
			return nil, err
		}
		d := c.retry.Delay(attempt, c.rand())
		if retryAfter > 0 {
			d = min(scaled(retryAfter, c.retry.Scale), scaled(c.retry.Max, c.retry.Scale))
		}
		c.logf(ctx, "kcps %s: attempt %d failed (%v); retrying in %s", command, attempt, err, d)
		if err := c.clock.Sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// transportError is a failure below HTTP: refused, reset, EOF, timeout.
type transportError struct {
	command string
	err     error
	// sent is false when the request surely never reached the server.
	sent bool
}

func (e *transportError) Error() string {
	return fmt.Sprintf("kcps %s: %v", e.command, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

func transient(err error) bool {
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.Transient()
}

// maybeCarriedOut reports whether a failed unsafe call could nonetheless
// have taken effect.
func maybeCarriedOut(err error) bool {
	var te *transportError
	if errors.As(err, &te) {
		return te.sent
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatus >= 500 && !ae.Refusal()
	}
	return false
}

func (c *Client) once(ctx context.Context, command string, params url.Values, idem Idempotency) (body []byte, retryAfter time.Duration, err error) {
	p := url.Values{}
	for k, v := range params {
		if len(v) > 0 {
			p.Set(k, v[0])
		}
	}
	p.Set("command", command)
	p.Set("apiKey", c.cfg.APIKey)
	p.Set("response", "json")
	if c.cfg.SignatureVersion3 {
		p.Set("signatureversion", "3")
		p.Set("expires", c.clock.Now().Add(10*time.Minute).UTC().Format("2006-01-02T15:04:05-0700"))
	}
	q := SignedQuery(p, c.cfg.SecretKey)
	var req *http.Request
	if c.cfg.UsePOST {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint, strings.NewReader(q))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		sep := "?"
		if strings.Contains(c.cfg.Endpoint, "?") {
			sep = "&"
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.Endpoint+sep+q, nil)
	}
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	hc := c.idem
	if idem == Unsafe {
		hc = c.unsafe
	}
	c.logf(ctx, "kcps call %s", command)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, &transportError{command: command, err: redactURL(err), sent: !dialFailure(err)}
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, 0, &transportError{command: command, err: err, sent: true}
	}
	if resp.StatusCode != http.StatusOK {
		if s := resp.Header.Get("Retry-After"); s != "" {
			if n, perr := strconv.Atoi(s); perr == nil && n > 0 {
				retryAfter = time.Duration(n) * time.Second
			}
		}
		return nil, retryAfter, decodeError(command, resp.StatusCode, body)
	}
	return body, 0, nil
}

// redactURL strips the query (api key, signature) from *url.Error messages.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, stripQuery(ue.URL), ue.Err)
	}
	return err
}

func stripQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i]
	}
	return s
}

// dialFailure reports errors that happen before any byte is sent.
func dialFailure(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") ||
		strings.Contains(s, "dial tcp")
}

func inlineError(command string, raw []byte) *APIError {
	if len(raw) == 0 || raw[0] != '{' || !strings.Contains(string(raw[:min(len(raw), 200)]), "errorcode") {
		return nil
	}
	ae := decodeError(command, 0, []byte(`{"x":`+string(raw)+`}`))
	if ae.ErrorCode == 0 {
		return nil
	}
	ae.HTTPStatus = ae.ErrorCode
	return ae
}
