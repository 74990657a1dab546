package kcps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The wire types below accept what KCPS actually sends: numbers that arrive
// as JSON strings ("cpunumber":"2"), times as epoch milliseconds or as
// CloudStack's "2006-01-02T15:04:05-0700", interval types as numbers.

// flexInt decodes 12, "12", "" and null.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s, isNull, err := scalar(b)
	if err != nil || isNull || s == "" {
		*f = 0
		return err
	}
	n, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil {
		fl, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("kcps: not a number: %s", b)
		}
		n = int64(fl)
	}
	*f = flexInt(n)
	return nil
}

// flexBool decodes true, "true", 1 and "1".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s, _, err := scalar(b)
	if err != nil {
		return err
	}
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		*f = true
	default:
		*f = false
	}
	return nil
}

// flexString decodes a string, or a number/bool as its text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	s, _, err := scalar(b)
	*f = flexString(s)
	return err
}

// flexTime decodes epoch milliseconds (number or digit string), CloudStack's
// "2006-01-02T15:04:05-0700" and RFC 3339.
type flexTime time.Time

var timeLayouts = []string{
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

func (f *flexTime) UnmarshalJSON(b []byte) error {
	s, isNull, err := scalar(b)
	if err != nil || isNull || s == "" {
		*f = flexTime{}
		return err
	}
	t, err := ParseTime(s)
	*f = flexTime(t)
	return err
}

// ParseTime reads the time forms KCPS uses.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		// Epoch milliseconds (KCPS); a value this small is seconds.
		if n < 100_000_000_000 {
			return time.Unix(n, 0).UTC(), nil
		}
		return time.UnixMilli(n).UTC(), nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("kcps: unrecognised time %q", s)
}

// intervalNames maps KCPS's numeric interval types to their names.
var intervalNames = []string{"HOURLY", "DAILY", "WEEKLY", "MONTHLY"}

// flexInterval decodes "DAILY", "daily", 1 or "1" to "DAILY".
type flexInterval string

func (f *flexInterval) UnmarshalJSON(b []byte) error {
	s, isNull, err := scalar(b)
	if err != nil || isNull {
		*f = ""
		return err
	}
	*f = flexInterval(NormalizeIntervalType(s))
	return nil
}

// NormalizeIntervalType turns a number (0 hourly, 1 daily, 2 weekly, 3
// monthly) or a name in any case into the upper-case name. Unknown values
// are returned upper-cased.
func NormalizeIntervalType(s string) string {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(intervalNames) {
		return intervalNames[n]
	}
	return strings.ToUpper(s)
}

// scalar returns the text of a JSON string, number or bool.
func scalar(b []byte) (s string, isNull bool, err error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return "", true, nil
	}
	if b[0] == '"' {
		err = json.Unmarshal(b, &s)
		return strings.TrimSpace(s), false, err
	}
	if b[0] == '{' || b[0] == '[' {
		return "", false, fmt.Errorf("kcps: expected a scalar, got %.40s", b)
	}
	return string(b), false, nil
}

// unwrap returns the body inside the single top-level key of a CloudStack
// answer ({"listvolumesresponse":{...}}). It prefers want when several keys
// are present.
func unwrap(body []byte, want string) (json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("kcps: answer is not JSON: %w (%.200s)", err, body)
	}
	if v, ok := top[want]; ok {
		return v, nil
	}
	for k, v := range top {
		if strings.HasSuffix(k, "response") {
			return v, nil
		}
	}
	if len(top) == 1 {
		for _, v := range top {
			return v, nil
		}
	}
	return nil, fmt.Errorf("kcps: answer has no %q (%.200s)", want, body)
}

func timeOf(f flexTime) time.Time { return time.Time(f) }
