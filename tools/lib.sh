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
