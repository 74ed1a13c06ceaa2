#!/usr/bin/env bash
# make bench: run every stage's benchmarks and the end-to-end load, then
# regenerate docs/PERFORMANCE.md from what they measured.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/bench
mkdir -p "$out"
count=${BENCH_COUNT:-6}
raw=$out/raw.txt
: > "$raw"
run() { echo "+ go test $*" >&2; go test -run '^$' "$@" | tee -a "$raw"; }
run -bench CreateTrigger -benchtime 500x -count "$count" ./deploy/local/bench
run -bench Pipeline -benchtime 1x -count "$count" ./deploy/local/bench
run -bench ColdStart -benchtime 20x -count "$count" ./deploy/local/bench
run -bench 'Render|Load' -cpu 1 -count "$count" ./templates/...
run -bench BatchOfTen -count "$count" ./mailer
go tool benchstat "$raw" > "$out/benchstat.txt"
go run ./deploy/local bench -quiet -concurrency 1,5,10,25,50,100 -sign-ins-per-person 10 \
  -json "$out/e2e.json" -plot docs/img/latency-vs-concurrency.png
go run ./deploy/local bench -quiet -think 2s -concurrency 50,100,200 -sign-ins-per-person 6 \
  -json "$out/e2e-think.json"
go run ./deploy/local/bench/perfdoc -raw "$raw" -benchstat "$out/benchstat.txt" \
  -e2e "$out/e2e.json" -e2e-think "$out/e2e-think.json" -lambdas bin/lambda > docs/PERFORMANCE.md
echo "wrote docs/PERFORMANCE.md" >&2
