#!/bin/sh
# make bench BENCH=instr: the user-space instructions an echoed media
# message costs the module and the C floor (tools/bench/floor.c), counted
# by valgrind's callgrind, so the same build gives the same figure on any
# machine, however busy.  It is the figure to compare a change to the
# media path by; the CPU time of BENCH=side says what the kernel adds.
#
#   tools/bench/bench-instr.sh MODULE SIM FLOOR [CALLS]
#
# Each server runs under callgrind twice, with CALLS and 2 x CALLS echo
# calls of BENCH_SECONDS of audio; the difference over the difference in
# messages is the cost of a message, start-up and handshakes aside (a
# handshake is a message's cost spread over a call's 250 messages here).
# Then the functions that cost the module the most, over both runs.
# The Node bridge is not measured: under valgrind it does not get to
# listen in any useful time.
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib.sh"

module=$1
sim=$2
floor=$3
calls=${4:-10}
secs=${BENCH_INSTR_SECONDS:-5}
prefix=$top/build/bench-instr
port=$(free_port)

rm -rf "$prefix"
mkdir -p "$prefix"

# callgrind's count of instructions, from its output file $1
instr_total() {
    awk '/^summary:/ { print $2 }' "$1"
}

# $1 (module or floor) under callgrind for $2 calls; prints
# "instructions frames"
instr_run() {
    _d=$prefix/$1-$2
    new_prefix "$_d"

    if [ "$1" = module ]; then
        cat > "$_d/nginx.conf" <<CONF
load_module $module;
master_process off;
daemon off;
worker_rlimit_nofile 20000;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location /media/ { voice_media_stream echo; }
    }
}
CONF
        set -- "$1" "$2" "$nginx" -p "$_d" -c "$_d/nginx.conf" \
            -e "$_d/logs/error.log"
        _sig=QUIT
    else
        set -- "$1" "$2" "$floor" "$port"
        _sig=TERM
    fi

    _n=$2
    shift 2
    valgrind --tool=callgrind --callgrind-out-file="$_d/callgrind.out" \
        "$@" 2> "$_d/valgrind.log" &
    _vg=$!
    wait_port "$port"

    "$sim" --stream-url "ws://127.0.0.1:$port/media/bench" --rtt --json \
        --silence-after $((secs * 1000)) --calls "$_n" --ramp 20 \
        --timeout $((secs * 20 + 60)) > "$_d/sim.json" 2> "$_d/sim.err"

    kill -"$_sig" "$_vg"
    wait "$_vg" 2> /dev/null || true

    _frames=$(sed -n 's/.*"summary":{[^}]*"echoed":\([0-9]*\).*/\1/p' \
              "$_d/sim.json")
    echo "$(instr_total "$_d/callgrind.out") ${_frames:-0}"
}

echo "user-space instructions per echoed media message (callgrind):"
echo "$calls and $((calls * 2)) calls of $secs s, on $(cpu_model)"
echo
printf '%-8s %16s %16s %14s\n' server "instructions" "messages" \
    "per message"

for kind in module floor; do
    # shellcheck disable=SC2046
    set -- $(instr_run "$kind" "$calls") \
           $(instr_run "$kind" $((calls * 2)))

    if [ "$2" -eq 0 ] || [ "$4" -le "$2" ]; then
        echo "$kind: the calls failed, see $prefix/$kind-*" >&2
        exit 1
    fi

    awk -v k="$kind" -v i1="$1" -v f1="$2" -v i2="$3" -v f2="$4" 'BEGIN {
        printf "%-8s %16d %16d %14.0f\n", k, i2, f2, (i2 - i1) / (f2 - f1)
    }' | tee -a "$prefix/table"
done

awk 'NR == 1 { m = $4 } NR == 2 { f = $4 }
     END { if (f > 0) printf "\nmodule/floor: %.2fx\n", m / f }' \
    "$prefix/table"

echo
echo "the module's costliest functions, both runs (self, % of all):"
callgrind_annotate "$prefix/module-$((calls * 2))/callgrind.out" \
        2> /dev/null \
    | awk '/file:function/ { on = 1; next }
           on && /%\)/ { print; if (++n == 12) exit }'

echo
echo "reproduce: make bench BENCH=instr BENCH_INSTR_CALLS=$calls" \
     "BENCH_INSTR_SECONDS=$secs"
