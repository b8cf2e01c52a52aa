#!/bin/sh
# make bench BENCH=side: the same echo calls against the module's one
# worker, a Node ws bridge of the shape of Twilio's sample
# (tools/bench/node/bridge.js) and a bare C epoll echo of the same
# messages (tools/bench/floor.c, the floor), one after the other.
#
#   tools/bench/bench-side.sh MODULE SIM FLOOR [CALLS]
#
# Each server runs on a core of its own, voice-sim --rtt on the other.
# For each: its process's user and system CPU over the run per
# call-second (a call-second is a second of one call's audio, 50
# messages each way), its RSS growth per call with every call live, and
# the round trip of each caller frame to its echo.
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib.sh"
. "$top/tools/bench/echo-load.sh"

module=$1
sim=$2
floor=$3
calls=${4:-200}
secs=${BENCH_SECONDS:-10}
prefix=$top/build/bench-side
port=$(free_port)

rm -rf "$prefix"
mkdir -p "$prefix"
echo_pin
echo_node_install

trap 'echo_server_stop "$kind" 2>/dev/null' EXIT

echo "echo calls side by side: $calls calls of $secs s, each server on a core"
echo "of its own, voice-sim on the other ($(nproc) cores: $(cpu_model))"
echo
printf '%-8s %29s %10s %20s %13s\n' "" "CPU per call-second (ms)" \
    "RSS/call" "round trip (ms)" "frames"
printf '%-8s %9s %9s %9s %10s %6s %6s %6s %6s %6s\n' server user sys total \
    KiB p50 p99 max lost late

for kind in module node floor; do
    echo_server_start "$kind"
    # shellcheck disable=SC2046
    set -- $(echo_load "$calls")
    echo_server_stop "$kind"

    awk -v k="$kind" -v n="$calls" -v s="$secs" -v u="$1" -v y="$2" \
        -v rss="$3" -v p50="$4" -v p99="$5" -v max="$6" -v lost="$8" \
        -v late="$9" -v failed="${10}" -v lag="${11}" 'BEGIN {
        cs = n * s
        printf "%-8s %9.3f %9.3f %9.3f %10.1f %6.2f %6.2f %6.1f %6d %6d\n",
               k, u / 1000 / cs, y / 1000 / cs, (u + y) / 1000 / cs, rss,
               p50, p99, max, lost, late
        if (failed) printf "         (%d calls failed)\n", failed
        if (lag > 5)
            printf "         (voice-sim ticked up to %.1f ms late)\n", lag
    }' | tee -a "$prefix/table"
    echo "$kind $*" >> "$prefix/figures"
done

awk 'function x(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "-" }
{ u[$1] = $2; t[$1] = $2 + $3 }
END {
    printf "\nmodule/floor: %s total CPU, %s user\n",
           x(t["module"], t["floor"]), x(u["module"], u["floor"])
    printf "node/module:  %s total CPU, %s user\n",
           x(t["node"], t["module"]), x(u["node"], u["module"])
}' "$prefix/figures"

echo
echo "reproduce: make bench BENCH=side BENCH_SIDE_CALLS=$calls" \
    "BENCH_SECONDS=$secs"
echo "(CPU is the server process's run time over the whole run, handshakes"
echo " included, over calls x seconds, split into user and sys by perf's"
echo " samples with every call live; node counts all its threads; RSS is"
echo " read mid-run against before; a round trip is from a frame's send to"
echo " its echo's arrival; late is over 100 ms, lost never came back)"
