// Command benchtable turns the JSON figures printed by the benchmarks (one
// object per line) into the table make bench shows. It exits with status 3
// when a figure missed its target.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/backupctl/terraform-provider-backupctl/internal/benchfig"
)

func main() {
	var figs []benchfig.Figure
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var f benchfig.Figure
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			fmt.Fprintf(os.Stderr, "benchtable: skipping unreadable line %q: %v\n", line, err)
			continue
		}
		figs = append(figs, f)
	}
	if len(figs) == 0 {
		fmt.Println("bench: no figures were reported")
		os.Exit(1)
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FIGURE\tOURS\tBASELINE\tRATIO\tTARGET\tRESULT")
	failed := 0
	for _, f := range figs {
		base, ratio := "-", "-"
		if f.Baseline != 0 {
			base = num(f.Baseline, f.Unit)
		}
		if f.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", f.Ratio)
		}
		res := "pass"
		if !f.Pass {
			res = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Figure, num(f.Ours, f.Unit), base, ratio, f.Target, res)
	}
	_ = w.Flush()
	fmt.Printf("bench: %d figures, %d passed, %d failed\n", len(figs), len(figs)-failed, failed)
	if failed > 0 {
		os.Exit(3) // a target was missed: make bench fails too
	}
}

func num(v float64, unit string) string {
	s := fmt.Sprintf("%.4g", v)
	if unit != "" {
		s += " " + unit
	}
	return s
}
