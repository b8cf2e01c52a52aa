#!/bin/sh
# make bench: echo calls in real time against one nginx worker, measuring
# the worker's own CPU time and memory while the calls run.
#
#   tools/bench/bench.sh MODULE SIM [CALLS...]
set -e

module=$1
sim=$2
shift 2
[ $# -gt 0 ] || set -- 1 100 500

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib.sh"
. "$top/tools/bench/echo-load.sh"

prefix=$top/build/bench
secs=${BENCH_SECONDS:-10}
hz=$(getconf CLK_TCK)
port=$(free_port)

# unpinned, as its figures have always been measured
affinity=""
new_prefix "$prefix"
echo_server_start module
trap 'echo_server_stop module' EXIT
worker=$server

cpu() {
    awk '{ print $14 + $15 }' "/proc/$worker/stat"
}

echo "echo calls, $secs s of audio each, one nginx worker ($(nproc) cores:"
echo "$(cpu_model))"
echo
printf '%8s %14s %16s %18s %14s\n' calls "worker CPU %" "CPU us/message" \
    "worker RSS/call" "failed calls"

for n in "$@"; do
    rss0=$(worker_rss "$worker")
    c0=$(cpu)

    "$sim" --stream-url "ws://127.0.0.1:$port/media/bench" \
        --silence-after $((secs * 1000)) --calls "$n" --ramp 2 \
        --timeout $((secs * 4 + 30)) > "$prefix/sim-$n.out" 2>&1 &
    simpid=$!

    # the worker's memory with every call live
    sleep $((secs / 2))
    rss1=$(worker_rss "$worker")

    wait $simpid || true
    c1=$(cpu)

    failed=$(sed -n 's/.* calls, \([0-9]*\) failed/\1/p' "$prefix/sim-$n.out")
    msgs=$((n * secs * 50 * 2))
    awk -v c="$((c1 - c0))" -v hz="$hz" -v s="$secs" -v m="$msgs" \
        -v n="$n" -v r0="$rss0" -v r1="$rss1" -v f="$failed" 'BEGIN {
        printf "%8d %13.1f%% %16.2f %15.1f KiB %14s\n", n,
               100 * c / hz / (s + 1), 1e6 * c / hz / m,
               (r1 - r0) / n, f
    }'
done

echo
echo "reproduce: make bench BENCH=echo BENCH_CALLS=\"$*\" BENCH_SECONDS=$secs"
echo "(CPU is the worker's utime+stime over the run; messages count both"
echo " directions, 50 a second each way; RSS is measured mid-call)"
