// Package benchfig is the one-line JSON record every benchmark of make bench
// prints, and internal/tools/benchtable reads back into the table.
package benchfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Figure is one measured quantity, against a baseline measured in the same
// run where there is one (Baseline and Ratio are then non-zero).
type Figure struct {
	Figure   string  `json:"figure"`
	Ours     float64 `json:"ours"`
	Baseline float64 `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	Unit     string  `json:"unit,omitempty"`
	Target   string  `json:"target"`
	Pass     bool    `json:"pass"`
}

// JSON returns f as one line of JSON ("<=" stays readable).
func (f Figure) JSON() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(f)
	return strings.TrimSpace(b.String())
}

// Report prints f on standard output, where make bench collects it, and in
// the test's log.
func Report(tb testing.TB, f Figure) {
	tb.Helper()
	fmt.Println(f.JSON())
	tb.Log(f.JSON())
}
