package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchArchive is the archive benchmark of "make bench" (512 MiB tree,
// about 1-2 minutes on 2 cores): it prints one JSON line per figure and
// fails when a target is missed.
func TestBenchArchive(t *testing.T) {
	if os.Getenv("BACKUPCTL_BENCH") != "1" {
		t.Skip("benchmark: run with BACKUPCTL_BENCH=1 (make bench)")
	}
	figs, err := bench(os.Stderr, "", 512<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for _, f := range figs {
		_ = enc.Encode(f)
		if !f.Pass {
			t.Errorf("target missed: %s: ours %.2f, baseline %.2f, ratio %.3f, target %s", f.Figure, f.Ours, f.Baseline, f.Ratio, f.Target)
		}
	}
}

// The benchmark runs end to end on a small tree and reports every figure
// with the fields the bench table reads. (Speed itself is not asserted
// here: that is what the benchmark run is for.)
func TestSmallBenchRun(t *testing.T) {
	figs, err := bench(io.Discard, t.TempDir(), 6<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tar.gz throughput", "tar.gz size", "tar.zst throughput", "verification (checksum)", "verification (deep"}
	if len(figs) != len(want) {
		t.Fatalf("%d figures: %+v", len(figs), figs)
	}
	for i, f := range figs {
		if !strings.Contains(f.Figure, want[i]) || f.Ours <= 0 || f.Baseline <= 0 || f.Ratio <= 0 || f.Target == "" {
			t.Errorf("figure %d: %+v", i, f)
		}
		b, _ := json.Marshal(f)
		var m map[string]any
		json.Unmarshal(b, &m)
		for _, k := range []string{"figure", "ours", "baseline", "ratio", "target", "pass"} {
			if _, ok := m[k]; !ok {
				t.Errorf("figure %d lacks %q: %s", i, k, b)
			}
		}
	}
}

// The generator is deterministic: same seed, same bytes.
func TestGenerateDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	sa, err := generate(a, 3<<20, 42)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := generate(b, 3<<20, 42)
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb || sa.Files < 100 || sa.Bytes < 3<<20 || sa.Bytes > 3<<20*105/100 {
		t.Fatalf("stats %+v vs %+v", sa, sb)
	}
	n := 0
	filepath.Walk(a, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || string(x) != string(y) {
			t.Errorf("%s differs", rel)
		}
		n++
		return nil
	})
	if int64(n) != sa.Files+1 { // + the hard link
		t.Errorf("%d files walked, %d generated", n, sa.Files)
	}
}
