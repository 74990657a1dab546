// Command archivebench measures the archive engine against GNU tar on a
// generated tree (512 MiB by default: many small files, some large,
// realistic compressibility), all in one run on this machine:
//
//   - our tar.gz vs "tar -czf" (GNU tar + gzip -6): throughput and size;
//   - our tar.zst vs the same GNU tar + gzip throughput;
//   - manifest verification vs sha256sum over the same data: the archive
//     file's checksum (Verify "checksum" vs "sha256sum archive"), and the
//     deep check of every member (Verify "deep" vs sha256sum over every
//     file of the tree).
//
// Each figure is printed as one JSON line on stdout:
//
//	{"figure":"...","ours":X,"baseline":Y,"ratio":R,"target":"...","pass":true,"unit":"MB/s"}
//
// Progress goes to stderr. The exit status is 1 when a target is missed.
// Every measurement is taken -runs times, interleaved, and the best run
// counts, which keeps other load on a shared machine from deciding the
// result.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
	"github.com/backupctl/terraform-provider-backupctl/internal/transport"
)

// Figure is one result line.
type Figure struct {
	Figure   string  `json:"figure"`
	Ours     float64 `json:"ours"`
	Baseline float64 `json:"baseline"`
	Ratio    float64 `json:"ratio"`
	Target   string  `json:"target"`
	Pass     bool    `json:"pass"`
	Unit     string  `json:"unit"`
}

func main() {
	size := flag.Int64("size", 512<<20, "bytes of file content to generate")
	dir := flag.String("dir", "", "work directory (default: a new one under $TMPDIR, removed at the end)")
	runs := flag.Int("runs", 2, "runs of each measurement (the best counts)")
	flag.Parse()
	figs, err := bench(os.Stderr, *dir, *size, *runs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "archivebench:", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	ok := true
	for _, f := range figs {
		_ = enc.Encode(f)
		ok = ok && f.Pass
	}
	if !ok {
		os.Exit(1)
	}
}

// bench generates the tree and takes every measurement.
func bench(log io.Writer, dir string, size int64, runs int) ([]Figure, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "archivebench-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(d) }()
		dir = d
	}
	tree := filepath.Join(dir, "tree")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	t0 := time.Now()
	st, err := generate(tree, size, 1)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	fmt.Fprintf(log, "generated %d files, %d dirs, %.1f MiB in %v\n", st.Files, st.Dirs, float64(st.Bytes)/(1<<20), time.Since(t0).Round(time.Millisecond))
	mb := float64(st.Bytes) / 1e6
	ctx := context.Background()
	local := &transport.Local{}

	gnuGz := filepath.Join(out, "gnu.tar.gz")
	oursGz := filepath.Join(out, "ours.tar.gz")
	oursZst := filepath.Join(out, "ours.tar.zst")
	var tGNU, tGz, tZst, tSum, tCheck, tTreeSum, tDeep time.Duration
	best := func(cur *time.Duration, d time.Duration) {
		if *cur == 0 || d < *cur {
			*cur = d
		}
	}
	timed := func(name string, f func() error) (time.Duration, error) {
		start := time.Now()
		err := f()
		d := time.Since(start)
		if err != nil {
			return d, fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(log, "  %-28s %8.2fs\n", name, d.Seconds())
		return d, nil
	}
	var treeFiles []string
	if err := filepath.Walk(tree, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			treeFiles = append(treeFiles, p)
		}
		return err
	}); err != nil {
		return nil, err
	}
	for r := 1; r <= runs; r++ {
		fmt.Fprintf(log, "run %d/%d\n", r, runs)
		steps := []struct {
			name string
			dst  *time.Duration
			f    func() error
		}{
			{"GNU tar -czf", &tGNU, func() error {
				return exec.Command("tar", "-C", tree, "-czf", gnuGz, ".").Run()
			}},
			{"ours tar.gz", &tGz, func() error {
				_, err := archive.Create(ctx, local, local, oursGz, archive.CreateOptions{Paths: []string{tree}, Format: archive.FormatTarGz})
				return err
			}},
			{"ours tar.zst", &tZst, func() error {
				_, err := archive.Create(ctx, local, local, oursZst, archive.CreateOptions{Paths: []string{tree}, Format: archive.FormatTarZst})
				return err
			}},
			{"sha256sum archive", &tSum, func() error {
				return exec.Command("sha256sum", oursGz).Run()
			}},
			{"verify checksum", &tCheck, func() error {
				_, err := archive.Verify(ctx, local, oursGz, archive.VerifyChecksum)
				return err
			}},
			{"sha256sum every tree file", &tTreeSum, func() error {
				return sha256sumFiles(treeFiles)
			}},
			{"verify deep (tar.zst)", &tDeep, func() error {
				_, err := archive.Verify(ctx, local, oursZst, archive.VerifyDeep)
				return err
			}},
		}
		for _, s := range steps {
			d, err := timed(s.name, s.f)
			if err != nil {
				return nil, err
			}
			best(s.dst, d)
		}
	}
	size64 := func(p string) float64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return float64(fi.Size())
	}
	archMB := size64(oursGz) / 1e6
	rate := func(mb float64, d time.Duration) float64 { return round(mb / d.Seconds()) }
	figs := []Figure{
		ratioFig("archive tar.gz throughput vs GNU tar -czf", rate(mb, tGz), rate(mb, tGNU), 1.7, ">= 1.7x", "MB/s"),
		sizeFig("archive tar.gz size vs GNU tar -czf", size64(oursGz), size64(gnuGz), 1.05),
		ratioFig("archive tar.zst throughput vs GNU tar -czf", rate(mb, tZst), rate(mb, tGNU), 4, ">= 4x", "MB/s"),
		ratioFig("manifest verification (checksum) vs sha256sum", rate(archMB, tCheck), rate(archMB, tSum), 0.8, ">= 0.8x", "MB/s"),
		ratioFig("manifest verification (deep, per member) vs sha256sum of the tree", rate(mb, tDeep), rate(mb, tTreeSum), 0.8, ">= 0.8x", "MB/s"),
	}
	fmt.Fprintf(log, "tree %.1f MB; tar.gz %.1f MB (GNU %.1f MB); tar.zst %.1f MB\n",
		mb, size64(oursGz)/1e6, size64(gnuGz)/1e6, size64(oursZst)/1e6)
	return figs, nil
}

// sha256sumFiles runs sha256sum over the files, as few processes as the
// command line allows, one after the other.
func sha256sumFiles(files []string) error {
	const batch = 2000
	for i := 0; i < len(files); i += batch {
		cmd := exec.Command("sha256sum", files[i:min(i+batch, len(files))]...)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			return err
		}
	}
	return nil
}

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

func ratioFig(name string, ours, base, least float64, target, unit string) Figure {
	r := 0.0
	if base > 0 {
		r = round(ours / base)
	}
	return Figure{Figure: name, Ours: ours, Baseline: base, Ratio: r, Target: target, Pass: r >= least, Unit: unit}
}

func sizeFig(name string, ours, base, most float64) Figure {
	r := 0.0
	if base > 0 {
		r = float64(int64(ours/base*1000+0.5)) / 1000
	}
	return Figure{Figure: name, Ours: ours, Baseline: base, Ratio: r, Target: fmt.Sprintf("<= %.2fx", most), Pass: base > 0 && ours <= base*most, Unit: "bytes"}
}
