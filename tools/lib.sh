# Shell helpers shared by tools/demo.sh and the benchmarks in tools/bench/:
# sourced, after the script has set $top to the repository's root.

nginx=${NGINX_BIN:-/usr/sbin/nginx}

# a TCP port free on 127.0.0.1 now
free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                     LocalPort => 0)->sockport'
}

# waits up to 10 s for something to listen on 127.0.0.1:$1
wait_port() {
    _i=0
    until perl -MIO::Socket::INET -e \
        'exit !IO::Socket::INET->new(PeerAddr => "127.0.0.1:'"$1"'")'
    do
        _i=$((_i + 1))
        [ $_i -lt 100 ] || return 1
        sleep 0.1
    done
}

# an empty nginx prefix at $1, with logs/, readable by the workers
new_prefix() {
    rm -rf "$1"
    mkdir -p "$1/logs"
    chmod 0755 "$1"
}

# the top of a benchmark's nginx.conf: the module $1, one worker, and any
# main-context directives in $2
nginx_conf_head() {
    cat <<CONF
load_module $1;
worker_processes 1;
$2
worker_rlimit_nofile 20000;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 8192; }
CONF
}

# nginx with $1/nginx.conf, run through the command in $2... if any (env
# VAR=...); its start-up messages in logs/start.log, shown if it fails
nginx_start() {
    _p=$1
    shift
    "$@" "$nginx" -p "$_p" -c "$_p/nginx.conf" -e "$_p/logs/error.log" \
        > "$_p/logs/start.log" 2>&1 < /dev/null \
        || { cat "$_p/logs/start.log" >&2; return 1; }
}

nginx_stop() {
    "$nginx" -p "$1" -c "$1/nginx.conf" -e /dev/null -s quit 2>/dev/null
}

# the pid of the only worker of the nginx in prefix $1
nginx_worker() {
    pgrep -P "$(cat "$1/logs/nginx.pid")" | head -1
}

# the CPU's model name
cpu_model() {
    grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'
}

# a benchmark with providers named $1, and its arguments: MODULE SIM
# BENCH_PROVIDERS [CALLS...]; sets $prefix (build/$1), $module, $sim,
# $bp and $calls (the numbers of calls at once, "1 100" by default)
bench_args() {
    prefix=$top/build/$1
    module=$2
    sim=$3
    bp=$4
    shift 4
    calls=${*:-1 100}
}

# The benchmarks' pinning: the worker gets a core of its own, as in
# production, and what plays the calls and the providers shares the
# other (BENCH_PIN=0: no pinning).  Sets $affinity, for nginx_conf_head,
# and $load, a prefix for the commands on that other core.
bench_pin() {
    affinity=""
    load=""
    if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] \
        && command -v taskset > /dev/null
    then
        affinity="worker_cpu_affinity 10;"
        load="taskset -c 0"
    fi
}

# a benchmark server's provider locations: /_stt, /_llm and /_tts
# proxied to bench-providers on 127.0.0.1:$1, the call's ids in the path
bench_provider_locations() {
    _ids='$voice_call_sid/$voice_stream_sid'
    cat <<CONF
        location = /_stt {
            internal;
            proxy_pass http://127.0.0.1:$1/stt/$_ids;
        }

        location = /_llm {
            internal;
            proxy_pass http://127.0.0.1:$1/llm/$_ids;
            proxy_buffering off;
        }

        location = /_tts {
            internal;
            proxy_pass http://127.0.0.1:$1/tts/$_ids;
            proxy_buffering off;
        }
CONF
}

# bench-providers ($bp) on 127.0.0.1:$pport with the options in $2, and
# its relay from $rport to nginx on $port; their logs are
# $1-providers.log and $1-relay.log
bench_providers_start() {
    # shellcheck disable=SC2086
    $load "$bp" --port "$pport" --log "$1-providers.log" $2 &
    _bench_pids=$!
    $load "$bp" --port "$rport" --relay "$port" --log "$1-relay.log" &
    _bench_pids="$_bench_pids $!"
    sleep 0.2
}

# stops them; their logs are complete once this returns
bench_providers_stop() {
    [ -n "${_bench_pids:-}" ] || return 0
    # shellcheck disable=SC2086
    kill $_bench_pids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait $_bench_pids 2>/dev/null || true
    _bench_pids=""
}

# the resident memory of process $1, KiB
worker_rss() {
    awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

# the CPU time (utime + stime) of process $1, µs
worker_cpu_us() {
    awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1e6 / hz) }' \
        "/proc/$1/stat"
}

# how long process $1 waited for a CPU while runnable, µs
worker_waited_us() {
    awk '{ print int($2 / 1000) }' "/proc/$1/schedstat"
}
