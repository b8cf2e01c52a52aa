# The echo load of make bench BENCH=side and BENCH=capacity, sourced
# after tools/lib.sh: an echo server (the module's one worker, the Node
# bridge or the C floor) on the pinned server core, voice-sim --rtt on
# the other, and what the server's process spent on it.  The sourcing
# script sets $top, $prefix, $port, $secs, $sim, and $module or $floor.
# shellcheck shell=sh disable=SC2154

# the echo server $1 (module, node or floor) on 127.0.0.1:$port; sets
# $server, the pid whose CPU and memory count
echo_server_start() {
    case "$1" in
    module)
        new_prefix "$prefix/module"
        nginx_conf_head "$module" "$affinity" > "$prefix/module/nginx.conf"
        cat >> "$prefix/module/nginx.conf" <<CONF
http {
    access_log off;
    server {
        listen 127.0.0.1:$port backlog=4096;
        location /media/ { voice_media_stream echo; }
    }
}
CONF
        nginx_start "$prefix/module"
        sleep 0.3
        server=$(nginx_worker "$prefix/module")
        ;;
    node)
        NODE_PATH="$prefix/node/node_modules" $core node \
            "$top/tools/bench/node/bridge.js" "$port" &
        server=$!
        ;;
    floor)
        $core "$floor" "$port" &
        server=$!
        ;;
    esac

    wait_port "$port"
}

echo_server_stop() {
    case "$1" in
    module) nginx_stop "$prefix/module" || true ;;
    *)      kill "$server" 2>/dev/null || true
            wait "$server" 2>/dev/null || true ;;
    esac
    server=""
}

# The Node bridge's ws, from npm, in $prefix/node (never in the tree):
# npm comes with nodesource's nodejs, Debian's is a package of its own.
echo_node_install() {
    if ! command -v npm > /dev/null; then
        apt-get install -y npm > /dev/null
    fi

    mkdir -p "$prefix/node"
    cp "$top/tools/bench/node/package.json" "$prefix/node/"
    (cd "$prefix/node" && npm install --no-audit --no-fund --silent) \
        > "$prefix/node/npm.log" 2>&1 \
        || { cat "$prefix/node/npm.log" >&2; return 1; }
}

# the CPU time process $1 has run, µs, as the scheduler counts it
proc_runtime() {
    awk '{ print int($1 / 1000) }' "/proc/$1/schedstat"
}

# The share of user time in what process $1 runs for the next $2 s, from
# perf's samples at 997 Hz; without perf, from /proc/PID/stat.
#
# Not /proc/PID/stat when perf is there: it charges each clock tick
# whole to the mode the process is in at the tick, and an echo load is
# periodic (a frame a call every 20 ms) as the tick is, so the ticks can
# see the same moments of the period throughout a run and split the
# time by their phase: 4% user in one run, 45% in the next.  997 Hz
# drifts through the period.  perf itself runs with the load, off the
# server's core.
user_share() {
    if command -v perf > /dev/null \
        && $load perf record -q -F 997 -e cpu-clock -p "$1" \
            -o "$prefix/perf.data" -- sleep "$2" > /dev/null 2>&1
    then
        perf report -i "$prefix/perf.data" --stdio --sort dso 2>/dev/null \
            | awk '/%/ && !/^#/ { p = $1 + 0;
                                   if ($2 ~ /kernel/) k += p; else u += p }
                   END { printf "%.4f\n", (u + k > 0 ? u / (u + k) : 0) }'
        return
    fi

    # shellcheck disable=SC2046
    set -- "$1" "$2" $(awk '{ print $14, $15 }' "/proc/$1/stat")
    sleep "$2"
    awk -v u0="$3" -v s0="$4" '{ u = $14 - u0; s = $15 - s0;
        printf "%.4f\n", (u + s > 0 ? u / (u + s) : 0) }' "/proc/$1/stat"
}

# $1 calls of $secs s of audio each against the server on $port, started
# over at most about a second ($1 ms above 1,000 calls); prints
#
#   user-us sys-us rss-kib/call p50 p99 max frames lost late failed lag
#
# the server's CPU over the whole run (split as user_share() finds while
# every call is live), its RSS growth with every call live, the round
# trips (ms), and how late the simulator ticked (ms)
echo_load() {
    _n=$1
    _ramp=$((1000 / _n))
    [ "$_ramp" -ge 1 ] || _ramp=1
    _out="$prefix/sim-$_n.json"

    _rss0=$(worker_rss "$server")
    _c0=$(proc_runtime "$server")

    # shellcheck disable=SC2086
    $load "$sim" --stream-url "ws://127.0.0.1:$port/media/bench" --rtt \
        --json --silence-after $((secs * 1000)) --calls "$_n" \
        --ramp "$_ramp" --timeout $((secs * 3 + _n / 50 + 30)) \
        > "$_out" 2> "$prefix/sim-$_n.err" &
    _sim=$!

    # every call live: past the ramp, halfway through the audio
    sleep "$(awk -v n="$_n" -v r="$_ramp" -v s="$secs" \
        'BEGIN { print n * r / 1000 + s / 2 }')"
    _rss1=$(worker_rss "$server")
    _share=$(user_share "$server" $((secs / 2 > 1 ? secs / 2 - 1 : 1)))

    wait "$_sim" || true
    _c1=$(proc_runtime "$server")

    perl -MJSON::PP -e '
        my ($n, $cpu, $share, $rss, $file) = @ARGV;
        my ($u, $s) = ($cpu * $share, $cpu * (1 - $share));
        local $/;
        open my $fh, "<", $file or die;
        my $j = eval { decode_json(<$fh>) } || { summary => {} };
        my $m = $j->{summary};
        my $r = $m->{rtt_ms} || {};
        printf "%d %d %.1f %.3f %.3f %.3f %d %d %d %d %.1f\n", $u, $s,
            $rss / $n, $r->{p50} // -1, $r->{p99} // -1, $r->{max} // -1,
            $m->{frames} // 0, $m->{lost} // -1, $m->{late} // -1,
            $m->{failed} // $n, $m->{sim_lag_max_ms} // -1;
    ' "$_n" $((_c1 - _c0)) "$_share" $((_rss1 - _rss0)) "$_out"
}

# the pinning of lib.sh's bench_pin, and $core: the server's core for
# the processes that are not nginx (nginx has worker_cpu_affinity)
echo_pin() {
    bench_pin
    core=""
    [ -z "$load" ] || core="taskset -c 1"
}
