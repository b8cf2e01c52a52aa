#!/bin/sh
# make demo: a whole phone call on this machine, offline.
#
#   tools/demo.sh MODULE SIM PROVIDERS
#
# Starts the offline providers (speech-to-text, a small dialogue engine,
# text-to-speech behind OpenAI's and ElevenLabs' wire formats) and nginx
# with conf/demo.conf on free local ports, then places a call with
# voice-sim, which plays Twilio and a caller who asks a few questions and
# interrupts once.  Prints the conversation as it happens, then the
# timings of each turn.  Stops everything it started.
#
# DEMO_PREFIX (default build/demo) is where it runs; DEMO_SHORT=1 asks
# two questions only (the test suite's run).
set -e

module=$1
sim=$2
providers=$3
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/lib.sh"

prefix=${DEMO_PREFIX:-$top/build/demo}
port=$(free_port)
pport=$(free_port)

if [ -f "$prefix/logs/nginx.pid" ]; then
    kill "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null || true
fi

new_prefix "$prefix"
mkdir "$prefix/modules"
ln -s "$module" "$prefix/modules/ngx_http_voice_module.so"
sed -e "s/listen 127.0.0.1:8080;/listen 127.0.0.1:$port;/" \
    -e "s/server 127.0.0.1:8090;/server 127.0.0.1:$pport;/" \
    -e "s|ws://127.0.0.1:8090/|ws://127.0.0.1:$pport/|" \
    "$top/conf/demo.conf" > "$prefix/nginx.conf"
cp "$top/conf/demo-tools.json" "$prefix/"

pids=""
nginx_up=""

stop() {
    [ -n "$nginx_up" ] && nginx_stop "$prefix"
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "== offline providers on 127.0.0.1:$pport"
echo "   speech-to-text: pocketsphinx; dialogue: a small FAQ engine;"
echo "   text-to-speech: espeak-ng (OpenAI and ElevenLabs wire formats)"
"$providers" --listen "127.0.0.1:$pport" --log "$prefix/logs/providers.log" &
pids="$pids $!"

wait_port "$pport" || { echo "the providers did not start" >&2; exit 1; }

echo "== nginx with the voice module on 127.0.0.1:$port (conf/demo.conf)"
nginx_start "$prefix" || exit 1
nginx_up=1

# the conversation as nginx logs it: what speech-to-text heard, what the
# agent says, interruptions
touch "$prefix/logs/error.log"
tail -n 0 --pid=$$ -F "$prefix/logs/error.log" 2>/dev/null | perl -ne '
    BEGIN { $| = 1 }
    my ($t) = /^\S+ (\S+)/ or next;
    s/ while [^,]*, client: .*//;
    if (/ voice: caller said "(.*)" \(stt/) {
        print "[$t]   heard:  $1\n";
    } elsif (/ voice: agent says "(.*)"$/) {
        print "[$t]   agent:  $1\n";
    } elsif (/ voice: caller interrupted, (.*)/) {
        print "[$t]   (interrupted: $1)\n";
    } elsif (/ voice: the model calls "(\w+)"/) {
        print "[$t]   (calls $1)\n";
    } elsif (/ voice: tool "(\w+)" answered (\d+) bytes/) {
        print "[$t]   (tool $1 answered, $2 bytes)\n";
    } elsif (/ voice: closing the stream: (.*)/) {
        print "[$t]   (closing: $1)\n";
    } elsif (/ voice: (\w+ provider .*)/) {
        print "[$t]   error:  $1\n";
    }' >&2 &
pids="$pids $!"

if [ -n "$DEMO_SHORT" ]; then
    set -- --say "What are your opening hours?" \
           --say "Do you deliver?" \
           --interrupt 1500 --say "How much does it cost?" \
           --say "Where is my order number one two three four?" \
           --say "Thank you, goodbye."
else
    set -- --say "Hi, what are your opening hours?" \
           --say "Where are you located?" \
           --say "Do you deliver?" \
           --interrupt 1500 --say "And how much does it cost?" \
           --say "Where is my order number one two three four?" \
           --say "Thank you, goodbye."
fi

echo "== a call: voice-sim plays Twilio (signed webhook, TwiML, media"
echo "   stream) and a caller speaking in real time"
echo

rc=0
"$sim" --url "http://127.0.0.1:$port/api/v1/voice/twilio/webhook/demo-call-1" \
    --token demo-auth-token --live "$@" --pause 700 --silence-after 20000 \
    --record-call "$prefix/call.wav" --json > "$prefix/report.json" || rc=$?

sleep 0.3
echo

perl -MJSON::PP -e '
    my $r = decode_json(do { local $/; <STDIN> });
    my $c = $r->{calls}[0];
    printf "call: %s, %d media messages to the caller, %d marks, %d clear\n",
        $c->{ok} ? "completed" : "FAILED ($c->{end})", $c->{media_out},
        $c->{marks}, $c->{clears};
    my $n = 0;
    for my $t (@{ $c->{turns} }) {
        printf "  turn %d: the caller spoke %.1f s at %.1f s; %s\n", ++$n,
            $t->{said_ms} / 1000, $t->{said_at_ms} / 1000,
            $t->{reply_after_ms} >= 0
                ? sprintf("the agent answered %.0f ms after", $t->{reply_after_ms})
                : "no answer";
    }' < "$prefix/report.json"

echo
echo "== per turn, as the module measured it (error.log, info)"
perl -ne '
    BEGIN {
        printf "%5s %12s %8s %10s %10s %10s %15s %9s\n", "turn",
            "endpointing", "stt", "llm first", "llm first", "tts first",
            "voice-to-voice", "module";
        printf "%5s %12s %8s %10s %10s %10s %15s %9s\n", "", "", "",
            "token", "sentence", "byte", "", "overhead";
    }
    next unless / voice: turn (\d+) timings: (.*?)(?: while |$)/;
    my ($n, $t, %f) = ($1, $2);
    $f{$1} = $2 while $t =~ /([a-z][a-z -]*?) (\d+) (?:ms|us)/g;
    printf "%5d %9d ms %5d ms %7d ms %7d ms %7d ms %12d ms %6.2f ms\n", $n,
        @f{"endpointing", "stt", "llm first token", "llm first sentence",
            "tts first byte", "voice-to-voice"}, $f{module} / 1000;
' "$prefix/logs/error.log"

echo
echo "the call, stereo (caller left, agent right): $prefix/call.wav"
echo "logs: $prefix/logs/ (error.log, calls.log, providers.log)"

exit $rc
