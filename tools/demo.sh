#!/bin/sh
# make demo: runs nginx with conf/demo.conf on a free local port under
# build/demo and places a call against it.
set -e

module=$1
sim=$2
top=$(cd "$(dirname "$0")/.." && pwd)
prefix=$top/build/demo

port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                 LocalPort => 0)->sockport')

if [ -f "$prefix/logs/nginx.pid" ]; then
    kill "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null || true
fi

rm -rf "$prefix"
mkdir -p "$prefix/logs" "$prefix/modules"
chmod 0755 "$prefix"
ln -s "$module" "$prefix/modules/ngx_http_voice_module.so"
sed "s/listen 127.0.0.1:8080;/listen 127.0.0.1:$port;/" \
    "$top/conf/demo.conf" > "$prefix/nginx.conf"

nginx=${NGINX_BIN:-/usr/sbin/nginx}
"$nginx" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" \
    > "$prefix/logs/start.log" 2>&1 < /dev/null
trap '"$nginx" -p "$prefix" -c "$prefix/nginx.conf" -e /dev/null -s quit' EXIT

echo "nginx with the voice module is listening on 127.0.0.1:$port"
echo

espeak-ng -s 150 -w "$prefix/caller.wav" \
    "Hello, I would like to check the opening hours of the store, please." \
    2>/dev/null

echo "placing a call: webhook, then the media stream, in real time"
echo
"$sim" --url "http://127.0.0.1:$port/api/v1/voice/twilio/webhook/demo-call-1" \
    --token demo-auth-token --play "$prefix/caller.wav" \
    --record "$prefix/heard.wav"

echo
echo "what the caller heard: $prefix/heard.wav"
echo "the call's access log line:"
sleep 0.2
cat "$prefix/logs/calls.log"
