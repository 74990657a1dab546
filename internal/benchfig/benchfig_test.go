package benchfig

import (
	"encoding/json"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	f := Figure{Figure: "x", Ours: 2, Baseline: 4, Ratio: 0.5, Unit: "s", Target: "ratio <= 1.5", Pass: true}
	line := f.JSON()
	if want := `{"figure":"x","ours":2,"baseline":4,"ratio":0.5,"unit":"s","target":"ratio <= 1.5","pass":true}`; line != want {
		t.Fatalf("JSON = %s, want %s", line, want)
	}
	var back Figure
	if err := json.Unmarshal([]byte(line), &back); err != nil || back != f {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if got := (Figure{Figure: "n", Ours: 4, Target: "= 4"}).JSON(); got != `{"figure":"n","ours":4,"target":"= 4","pass":false}` {
		t.Fatalf("a figure without baseline: %s", got)
	}
}
