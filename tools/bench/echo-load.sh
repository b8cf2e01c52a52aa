# The echo load of make bench BENCH=side and BENCH=capacity, sourced
# after tools/lib.sh: an echo server (the module's one worker, the Node
# bridge or the C floor) on the pinned server core, voice-sim --rtt on
# the other, and what the server's process spent on it.

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

# the user and system CPU time of process $1, µs
proc_cpu() {
    awk -v hz="$(getconf CLK_TCK)" \
        '{ printf "%d %d\n", $14 * 1e6 / hz, $15 * 1e6 / hz }' \
        "/proc/$1/stat"
}

# $1 calls of $secs s of audio each against the server on $port, started
# over at most about a second ($1 ms above 1,000 calls); prints
#
#   user-us sys-us rss-kib/call p50 p99 max frames lost late failed lag
#
# the server's CPU over the whole run, its RSS growth with every call
# live, the round trips (ms), and how late the simulator ticked (ms)
echo_load() {
    _n=$1
    _ramp=$((1000 / _n))
    [ "$_ramp" -ge 1 ] || _ramp=1
    _out="$prefix/sim-$_n.json"

    _rss0=$(worker_rss "$server")
    set -- $(proc_cpu "$server")
    _u0=$1 _s0=$2

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

    wait "$_sim" || true
    set -- $(proc_cpu "$server")

    perl -MJSON::PP -e '
        my ($n, $u, $s, $rss, $file) = @ARGV;
        local $/;
        open my $fh, "<", $file or die;
        my $j = eval { decode_json(<$fh>) } || { summary => {} };
        my $m = $j->{summary};
        my $r = $m->{rtt_ms} || {};
        printf "%d %d %.1f %.3f %.3f %.3f %d %d %d %d %.1f\n", $u, $s,
            $rss / $n, $r->{p50} // -1, $r->{p99} // -1, $r->{max} // -1,
            $m->{frames} // 0, $m->{lost} // -1, $m->{late} // -1,
            $m->{failed} // $n, $m->{sim_lag_max_ms} // -1;
    ' "$_n" $(($1 - _u0)) $(($2 - _s0)) $((_rss1 - _rss0)) "$_out"
}

# the pinning of lib.sh's bench_pin, and $core: the server's core for
# the processes that are not nginx (nginx has worker_cpu_affinity)
echo_pin() {
    bench_pin
    core=""
    [ -z "$load" ] || core="taskset -c 1"
}
