#!/usr/bin/env bash
# Regenerates the committed benchmark outputs from the real program in benchprog/:
#   base.txt   Work=1000 Allocs=1 (the base version)
#   noise.txt  the same code again: pure noise
#   slow.txt   Work=1300: a planted 30% slowdown of BenchmarkWork
#   alloc.txt  Allocs=2: one extra allocation in BenchmarkAlloc
#   few.txt    the base version with only 3 samples
# The four variants run interleaved (one -count=1 run of each per round), so that machine load
# drifts hit all of them alike. Run from anywhere: perfgate/testdata/gen.sh
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-8}
BENCHTIME=${BENCHTIME:-50ms}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() { # name work allocs
	mkdir -p "$tmp/$1"
	cp benchprog/go.mod benchprog/bench_test.go "$tmp/$1/"
	sed -e "s/Work   = 1000/Work   = $2/" -e "s/Allocs = 1/Allocs = $3/" benchprog/params.go >"$tmp/$1/params.go"
	(cd "$tmp/$1" && GOWORK=off go test -c -o "$tmp/$1.test" .)
}
build base 1000 1
build slow 1300 1
build alloc 1000 2

: >base.txt; : >noise.txt; : >slow.txt; : >alloc.txt; : >few.txt
# On a busy machine, RUNPREFIX="chrt -f 10 taskset -c 1" (as root) keeps other processes from
# preempting the benchmarks; GOMAXPROCS=1 keeps each run on one core.
RUNPREFIX=${RUNPREFIX:-}
run() { GOMAXPROCS=1 $RUNPREFIX "$tmp/$1.test" -test.run='^$' -test.bench=. -test.benchmem -test.count=1 -test.benchtime="$BENCHTIME"; }
for i in $(seq "$ROUNDS"); do
	run base >>base.txt
	run base >>noise.txt
	run slow >>slow.txt
	run alloc >>alloc.txt
	if [ "$i" -le 3 ]; then run base >>few.txt; fi
done
