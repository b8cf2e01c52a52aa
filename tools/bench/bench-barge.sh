#!/bin/sh
# make bench (barge): barge-in over the line's echo of the agent.
#
#   tools/bench/bench-barge.sh MODULE SIM PROVIDERS [CALLS]
#
# One nginx worker greets each caller with about 10 s of speech
# (espeak-ng, from the offline providers); the simulator plays Twilio
# and a caller's line that brings the agent's audio back, 20 dB down,
# 60 ms and 250 ms late (and, to compare, a line with no echo).  For
# each:
#
#   echo alone    CALLS calls whose caller says nothing: every clear is
#                 the agent interrupting itself
#   over it       the caller speaks over the greeting, 2 to 6.2 s into
#                 it, CALLS calls at each of 8 offsets: the time from
#                 the caller's voice starting (the simulator's frame) to
#                 the clear arriving back, its percentiles
#
# and, for the echo alone, the same with voice_barge_in_echo_margin off
# (the fixed margin of old).
#
# CALLS (10 by default) run at once, 100 ms apart.  STT and LLM are
# nginx's own "return": only the greeting and the reply's audio need
# providers.
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib.sh"

module=$1
sim=$2
providers=$3
calls=${4:-10}
prefix=$top/build/bench-barge

port=$(free_port)
pport=$(free_port)

new_prefix "$prefix"
bench_pin

greeting="Thank you for calling the Riverside clinic, this is the automated\
 assistant. We are open from nine in the morning until five in the\
 evening, every day except Sunday."

llm='data: {"choices":[{"delta":{"content":"Of course."}}]}\n\n'
llm="${llm}data: [DONE]\n\n"
tts=/v1/text-to-speech/bench/stream?output_format=ulaw_8000

nginx_conf_head "$module" "$affinity" > "$prefix/nginx.conf"
cat >> "$prefix/nginx.conf" <<CONF
http {
    access_log off;
    error_log logs/error.log info;

    server {
        listen 127.0.0.1:$port backlog=4096;

        voice_stt /_stt;
        voice_llm /_llm;
        voice_tts /_tts;
        voice_greeting "$greeting";

        location /media/ {
            voice_media_stream;
        }

        # the fixed margin of before
        location /fixed/ {
            voice_media_stream;
            voice_barge_in_echo_margin off;
        }

        location = /_stt {
            internal;
            default_type application/json;
            return 200 '{"text":"Sorry, can I ask you something else?"}';
        }

        location = /_llm {
            internal;
            default_type text/event-stream;
            return 200 '$llm';
        }

        location = /_tts {
            internal;
            proxy_pass http://127.0.0.1:$pport$tts;
            proxy_buffering off;
        }
    }
}
CONF

stop_all() {
    [ -n "${ppid_:-}" ] && kill "$ppid_" 2>/dev/null || true
    nginx_stop "$prefix" || true
}
trap stop_all EXIT

$load "$providers" --listen "127.0.0.1:$pport" --log "$prefix/providers.log" &
ppid_=$!
wait_port "$pport"

nginx_start "$prefix" env ${VOICE_PRELOAD:+LD_PRELOAD="$VOICE_PRELOAD"} \
    ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0
sleep 0.3

# 12 s of a quiet line: faint noise, PCM16 at 8 kHz
perl -e '
    my $pcm = pack "s<*", map { int(rand(25)) - 12 } 1 .. 8000 * 12;
    print "RIFF", pack("V", 36 + length $pcm), "WAVEfmt ",
        pack("VvvVVvv", 16, 1, 1, 8000, 16000, 2, 16),
        "data", pack("V", length $pcm), $pcm' > "$prefix/quiet.wav"

# the calls to ${path:-/media/}, on a line with an echo $delay ms late,
# or none
run() {
    _echo=""
    [ "$delay" = none ] || _echo="--echo-db -20 --echo-delay-ms $delay"
    # shellcheck disable=SC2086
    $load "$sim" --stream-url "ws://127.0.0.1:$port${path:-/media/}bench" \
        --calls "$calls" --ramp 100 $_echo -v "$@" 2>&1 > /dev/null
}

echo "barge-in over the line's echo: $(cpu_model), 1 worker," \
    "$calls calls at once"
echo "the agent's greeting comes back on the caller's line 20 dB down"
echo "(p99 of 8 x $calls: with fewer than 100 voices, the worst but one or two)"
echo

for delay in none 60 250; do
    log=$prefix/echo-$delay.log

    run --play "$prefix/quiet.wav" --silence-after 1000 > "$log"
    alone=$(grep -c '\] clear at' "$log" || true)

    : > "$prefix/over-$delay.log"

    for at in 2000 2600 3200 3800 4400 5000 5600 6200; do
        run --pause 300 --silence-after 3000 --interrupt "$at" \
            --say "Sorry, can I ask you something else?" \
            >> "$prefix/over-$delay.log"
    done

    # per call: the first clear after each voice onset; a clear with no
    # voice before it, or after the caller had finished (2.4 s), is the
    # agent interrupting itself
    perl -e '
        my ($delay, $alone, $calls) = @ARGV[1 .. 3];
        my (@ms, $false, $missed, $voices);
        my %pending;
        open my $fh, "<", $ARGV[0] or die;
        while (<$fh>) {
            if (/^\[(\d+)\] caller voice at/) {
                $pending{$1} = 1;
                $voices++;
            } elsif (/^\[(\d+)\] clear at [\d.]+ s, (\d+) ms after/) {
                if (delete $pending{$1} && $2 < 2400) {
                    push @ms, $2;
                } else {
                    $false++;
                }
            } elsif (/^\[(\d+)\] clear at/) {
                $false++;
            }
        }
        $missed = keys %pending;
        @ms = sort { $a <=> $b } @ms;
        my $p = sub { @ms ? $ms[int(($#ms) * $_[0] + 0.5)] : -1 };
        printf "%-12s alone, %d clears in %d calls;" .
            " over it, %d of %d voices interrupted (%d missed, %d other" .
            " clears), clear after the voice: p50 %d ms, p90 %d ms," .
            " p99 %d ms, max %d ms\n",
            $delay eq "none" ? "no echo:" : "echo $delay ms:", $alone, $calls,
            scalar @ms, $voices // 0, $missed, $false // 0, $p->(0.5),
            $p->(0.9), $p->(0.99), @ms ? $ms[-1] : -1;
    ' "$prefix/over-$delay.log" "$delay" "$alone" "$calls"
done

path=/fixed/

for delay in 60 250; do
    run --play "$prefix/quiet.wav" --silence-after 1000 \
        > "$prefix/fixed-$delay.log"
    printf "margin off, echo %3d ms: alone, %d clears in %d calls\n" \
        "$delay" "$(grep -c '\] clear at' "$prefix/fixed-$delay.log" || true)" \
        "$calls"
done

echo
echo "logs: $prefix/ (the simulator's -v output of each run)"
