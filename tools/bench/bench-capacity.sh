#!/bin/sh
# make bench BENCH=capacity: the most echo calls one worker carries with
# every caller frame echoed within 5 ms at p99 and none lost, searched
# upward through the numbers of calls given.
#
#   tools/bench/bench-capacity.sh MODULE SIM [CALLS...]
#
# BENCH_CAPACITY_SERVER=floor (with BENCH_FLOOR, the floor's binary) or
# node searches BENCH=side's other servers instead, the same way: what
# the machine and the load generator allow whatever the server.
#
# The worker on a core of its own, voice-sim --rtt on the other (as in
# BENCH=side); a fresh nginx for each step.  The search stops at the
# first step that fails.  voice-sim ticking late shows in its round
# trips: a step where it lagged over 5 ms is marked, its figures are
# the pair's, not the worker's alone.
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib.sh"
. "$top/tools/bench/echo-load.sh"

module=$1
sim=$2
shift 2
[ $# -gt 0 ] || set -- 500 1000 1500 2000 2500 3000 3500 4000
secs=${BENCH_SECONDS:-10}
limit=${BENCH_CAPACITY_P99:-5}
prefix=$top/build/bench-capacity
kind=${BENCH_CAPACITY_SERVER:-module}
floor=${BENCH_FLOOR:-$top/build/bench-floor}

rm -rf "$prefix"
mkdir -p "$prefix"
echo_pin
[ "$kind" != node ] || echo_node_install

trap 'echo_server_stop "$kind" 2>/dev/null' EXIT

echo "echo capacity of one $kind process: round trip p99 under $limit ms,"
echo "no frame lost; calls of $secs s ($(nproc) cores: $(cpu_model))"
echo
printf '%8s %9s %8s %8s %8s %8s %8s %8s %9s\n' calls "CPU %" p50 p99 \
    max lost late failed "sim lag"

best=0
steps="$*"

for n in $steps; do
    port=$(free_port)
    echo_server_start "$kind"
    # shellcheck disable=SC2046
    set -- $(echo_load "$n")
    echo_server_stop "$kind"

    if awk -v p99="$5" -v lost="$8" -v failed="${10}" -v l="$limit" \
        'BEGIN { exit !(p99 >= 0 && p99 < l && lost == 0 && failed == 0) }'
    then
        ok=1
    else
        ok=0
    fi

    awk -v n="$n" -v s="$secs" -v u="$1" -v y="$2" -v p50="$4" \
        -v p99="$5" -v max="$6" -v lost="$8" -v late="$9" \
        -v failed="${10}" -v lag="${11}" -v ok="$ok" 'BEGIN {
        printf "%8d %8.1f%% %8.2f %8.2f %8.1f %8d %8d %8d %6.1f ms%s\n",
               n, (u + y) / 1e4 / s, p50, p99, max, lost, late, failed,
               lag, ok ? "" : "   <- fails"
    }'

    [ "$ok" = 1 ] || break
    best=$n
done

echo
echo "largest passing: $best calls"
echo
echo "reproduce: make bench BENCH=capacity BENCH_CAPACITY_CALLS=\"$steps\"" \
    "BENCH_SECONDS=$secs${BENCH_CAPACITY_SERVER:+ BENCH_CAPACITY_SERVER=$kind}"
echo "(CPU % is the server's over the run, ramp and handshakes included,"
echo " against the calls' $secs s; sim lag: the most voice-sim ticked late)"
