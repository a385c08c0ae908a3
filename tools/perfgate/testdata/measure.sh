#!/usr/bin/env bash
# Measures what the time gate and the instruction gate each detect on this machine, with the
# hot-path fixture in hotpath/ (the real middleware, plus K extra requests per thousand).
#   1. detection: for each planted slowdown, 10 runs per side interleaved with the base, the
#      p-value and the measured delta, in time (sec/op) and in instructions (instructions/op);
#   2. false positives: perfobs gate calibrate, 20 A/A rounds, windows of 10 runs per side.
# Prints a table; takes 15 to 25 minutes on the shared 2-core machine (valgrind is most of it).
# Run from tools/: perfgate/testdata/measure.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
EXTRAS=${EXTRAS:-"12 25 37 61 122 366"}
TIME_EXTRAS=${TIME_EXTRAS:-"37 122 366 1000"}
RUNS=${RUNS:-10}
BENCHTIME=${BENCHTIME:-100ms}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/perfobs" ./cmd/perfobs
var=github.com/perfobs/perfobs-go/tools/perfgate/testdata/hotpath.ExtraPerThousand
for k in 0 $EXTRAS $TIME_EXTRAS; do
	[ -x "$tmp/hp$k.test" ] || go test -c -o "$tmp/hp$k.test" -ldflags="-X=$var=$k" ./perfgate/testdata/hotpath
done
row() { # mode extra
	local args=() out
	if [ "$1" = instructions ]; then args=(--instructions); else args=(--benchtime "$BENCHTIME"); fi
	out=$("$tmp/perfobs" gate --format json --threshold 0% --count "$RUNS" --base-bin "$tmp/hp0.test" --new-bin "$tmp/hp$2.test" \
		--bench '^BenchmarkMiddlewareHTTP$' "${args[@]}" 2>/dev/null || true)
	echo "$out" >"$tmp/$1-$2.json"
	python3 - "$1" "$2" "$tmp/$1-$2.json" <<'PY'
import json, sys
mode, k, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
unit = {"instructions": "instructions/op", "time": "sec/op"}[mode]
try:
    rep = json.load(open(path))
except ValueError:
    print(mode, "extra", k, "no result")
    sys.exit(0)
for r in rep["rows"]:
    if r["unit"] == unit:
        d = r["delta"] or 0
        found = "DETECTED" if r["significant"] and d > 0 else "not detected"
        print("%-13s %5.1f%% more requests  delta %+7.2f%%  p %.4f  %s" % (mode, k / 10, 100 * d, r["p"], found))
PY
}
echo "== detection, $RUNS runs per side, p < 0.05"
for k in $TIME_EXTRAS; do row time "$k"; done
for k in $EXTRAS; do row instructions "$k"; done
echo "== false positives: 20 A/A rounds, every window of $RUNS runs per side, both directions"
"$tmp/perfobs" gate calibrate --runs 20 --count "$RUNS" --benchtime "$BENCHTIME" --bench '^BenchmarkMiddlewareHTTP$' ./perfgate/testdata/hotpath 2>/dev/null
"$tmp/perfobs" gate calibrate --instructions --runs 20 --count "$RUNS" --bench '^BenchmarkMiddlewareHTTP$' ./perfgate/testdata/hotpath 2>/dev/null
