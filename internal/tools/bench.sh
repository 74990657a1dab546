#!/usr/bin/env bash
# make bench: runs every benchmark of the project (tests named TestBench*,
# enabled by BACKUPCTL_BENCH=1), collects the JSON figures they print and
# shows one table. The JSON lands in build/bench.json.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
mkdir -p build
export BACKUPCTL_BENCH=1 TF_ACC=1 TF_ACC_TERRAFORM_PATH=${TF_ACC_TERRAFORM_PATH:-$(command -v terraform)}
log=build/bench.log
echo "bench: running benchmarks (log: $log)"
set +e
go test -count=1 -p 1 -timeout 15m -run '^TestBench' -v ./... > "$log" 2>&1
status=$?
set -e
# A figure is a JSON object with a "figure" key on a line of its own (or
# behind a t.Log prefix); a figure printed both ways counts once.
sed -nE 's/^[[:space:]]*([A-Za-z0-9_]+\.go:[0-9]+: )?(\{.*"figure".*\})[[:space:]]*$/\2/p' "$log" | awk '!seen[$0]++' > build/bench.json || true
table=0
go build -o build/benchtable ./internal/tools/benchtable
build/benchtable < build/bench.json || table=$?
if [ $status -ne 0 ]; then
  echo "bench: some benchmark failed to run (see $log)"; grep -E '^(--- FAIL|FAIL|panic)' "$log" || true
  exit $status
fi
if [ $table -ne 0 ]; then
  echo "bench: some figures missed their targets (FAIL rows above)"
  exit $table
fi
