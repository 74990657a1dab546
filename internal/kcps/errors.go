package kcps

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// CloudStack error codes (kcps-api.md).
const (
	CodeUnauthorized         = 401
	CodeMethodNotAllowed     = 405
	CodeLimitExceeded        = 429
	CodeMalformedParameter   = 430
	CodeParameterError       = 431
	CodeUnsupportedAction    = 432
	CodeInternalError        = 530
	CodeAccountError         = 531
	CodeAccountResourceLimit = 532
	CodeInsufficientCapacity = 533
	CodeResourceUnavailable  = 534
	CodeResourceAllocation   = 535
	CodeResourceInUse        = 536
	CodeNetworkRuleConflict  = 537
)

// APIError is an error answer of the API: a non-200 status carrying
// {"<cmd>response":{"errorcode":..,"cserrorcode":..,"errortext":..}}, or a
// non-200 status whose body is not CloudStack's (a proxy's 503 page).
type APIError struct {
	Command     string
	HTTPStatus  int
	ErrorCode   int
	CSErrorCode int
	ErrorText   string
}

func (e *APIError) Error() string {
	code := e.ErrorCode
	if code == 0 {
		code = e.HTTPStatus
	}
	text := e.ErrorText
	if text == "" {
		text = http.StatusText(e.HTTPStatus)
	}
	if e.CSErrorCode != 0 {
		return fmt.Sprintf("kcps %s: error %d (cs %d): %s", e.Command, code, e.CSErrorCode, text)
	}
	return fmt.Sprintf("kcps %s: error %d: %s", e.Command, code, text)
}

// Transient reports whether the same request may succeed later: limit
// exceeded (429) or a server-side failure (5xx) other than a refusal.
func (e *APIError) Transient() bool {
	return e.HTTPStatus == http.StatusTooManyRequests || e.ErrorCode == CodeLimitExceeded ||
		(e.HTTPStatus >= 500 && !e.Refusal())
}

// Refusal reports one of CloudStack's own answers 531..537 (account error,
// resource limit, capacity, unavailable, allocation, in use, network rule
// conflict): sent with a 5xx status, but a definite no. The request was
// not carried out, and sending it again at once gets the same answer.
// 530 (internal error) is not one: it may come after part of the work.
func (e *APIError) Refusal() bool {
	return e.ErrorCode >= CodeAccountError && e.ErrorCode <= CodeNetworkRuleConflict
}

// JobError is an asynchronous job that ended with jobstatus 2.
type JobError struct {
	Command   string
	JobID     string
	ErrorCode int
	ErrorText string
}

func (e *JobError) Error() string {
	return fmt.Sprintf("kcps %s: job %s failed: error %d: %s", e.Command, e.JobID, e.ErrorCode, e.ErrorText)
}

// AmbiguousError wraps the failure of a non-idempotent call whose fate is
// unknown: the connection dropped, or the server failed with 5xx (not a
// Refusal) after the request reached it. The object may or may not have been created; the
// caller must look before sending the call again.
type AmbiguousError struct {
	Command string
	Err     error
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("kcps %s: outcome unknown (the request may have been carried out): %v", e.Command, e.Err)
}

func (e *AmbiguousError) Unwrap() error { return e.Err }

// ErrNotFound is returned by the Get helpers when the object does not exist.
var ErrNotFound = errors.New("kcps: not found")

// IsNotFound reports a missing object: ErrNotFound, or an API error whose
// text says the object could not be found (CloudStack answers 431 with
// "Unable to find ..." or "... does not exist").
func IsNotFound(err error) bool {
	if errors.Is(err, ErrNotFound) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.ErrorCode == CodeParameterError {
		t := strings.ToLower(ae.ErrorText)
		return strings.Contains(t, "unable to find") || strings.Contains(t, "does not exist") ||
			strings.Contains(t, "not found")
	}
	return false
}

// IsAmbiguous reports that a mutating call may have been carried out.
func IsAmbiguous(err error) bool {
	var a *AmbiguousError
	return errors.As(err, &a)
}

// decodeError builds an *APIError from a non-200 answer.
func decodeError(command string, status int, body []byte) *APIError {
	e := &APIError{Command: command, HTTPStatus: status}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		for _, v := range top {
			var w struct {
				ErrorCode   flexInt    `json:"errorcode"`
				CSErrorCode flexInt    `json:"cserrorcode"`
				ErrorText   flexString `json:"errortext"`
			}
			if json.Unmarshal(v, &w) == nil && (w.ErrorCode != 0 || w.ErrorText != "") {
				e.ErrorCode = int(w.ErrorCode)
				e.CSErrorCode = int(w.CSErrorCode)
				e.ErrorText = string(w.ErrorText)
				return e
			}
		}
	}
	e.ErrorCode = status
	t := strings.TrimSpace(string(body))
	if len(t) > 300 {
		t = t[:300] + "..."
	}
	e.ErrorText = t
	return e
}
