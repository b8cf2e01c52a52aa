#!/bin/sh
# make bench (stream): voice-to-voice with batch STT, with streaming STT,
# and with streaming STT and speculative turns, on the same fake
# providers; the module's own time per streaming hand-off; the memory
# the streaming connection costs a call.
#
#   tools/bench/bench-stream.sh MODULE SIM BENCH_PROVIDERS [CALLS...]
#
# The configurations (BENCH_STREAM_CONFIGS, all three by default), each
# a location of one nginx worker, restarted for each:
#
#   batch    voice_stt: the utterance uploaded once the caller is done
#   stream   voice_stt_stream: the caller's speech streamed as spoken,
#            Finalize at the end (voice_stt stays as the fallback)
#   spec     the same, and voice_speculative on
#
# The fakes (bench-providers) answer after fixed delays, the same in
# every configuration, each counted from when its request arrived: the
# batch transcript after BENCH_STT_MS, the streaming recognizer's final
# result BENCH_FINAL_MS after Finalize, the LLM's first words after
# BENCH_LLM_MS and the rest of its first sentence BENCH_GAP_MS later,
# the TTS audio after BENCH_TTS_MS.
#
# Each run is CALLS calls at once (voice-sim --calls, 20 ms apart), each
# saying BENCH_TURNS questions (espeak-ng), waiting for the answer and
# its end each time.  Voice-to-voice is measured twice: by the caller
# (voice-sim --json: from the last frame of the question sent to the
# first frame of the answer played) and by the module (the turn's
# timings line: from the start of the silence it endpointed on to the
# first media message sent).  The streaming hand-offs:
#
#   caller frame -> recognizer   a caller's media message written to
#                                nginx (the relay) -> the binary frame of
#                                its audio read by the recognizer (the
#                                kernel's stamp), matched by the audio's
#                                key, one 20 ms frame each
#   transcript -> LLM request    the module's own count (the timings
#                                line's first "module" figure); and on
#                                the wire: the final result written ->
#                                the LLM request's first byte read
#
# Memory: BENCH_MEM_CALLS calls at once, silent, on a fresh worker: its
# RSS with them minus before them, per call, batch and streaming; the
# difference is what the streaming connection costs a call.
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib.sh"

bench_args bench-stream "$@"
turns=${BENCH_TURNS:-4}
configs=${BENCH_STREAM_CONFIGS:-batch stream spec}
mem_calls=${BENCH_MEM_CALLS:-100}
stt_ms=${BENCH_STT_MS:-300}
final_ms=${BENCH_FINAL_MS:-100}
llm_ms=${BENCH_LLM_MS:-200}
gap_ms=${BENCH_GAP_MS:-50}
tts_ms=${BENCH_TTS_MS:-100}
vad_ms=500
spec_ms=200

port=$(free_port)
pport=$(free_port)
rport=$(free_port)

new_prefix "$prefix"
bench_pin

ids='$voice_call_sid/$voice_stream_sid'
listen="ws://127.0.0.1:$pport/v1/listen?encoding=mulaw&sample_rate=8000"
listen="$listen&channels=1&interim_results=true"

nginx_conf_head "$module" "$affinity
error_log logs/info.log info;" > "$prefix/nginx.conf"
cat >> "$prefix/nginx.conf" <<CONF
http {
    access_log off;

    voice_stt /_stt;
    voice_llm /_llm;
    voice_tts /_tts;
    voice_system_prompt "You are a receptionist. Be brief.";
    voice_vad_silence ${vad_ms}ms;

    server {
        listen 127.0.0.1:$port backlog=4096;

        location /batch/ {
            voice_media_stream;
        }

        location /stream/ {
            voice_media_stream;
            voice_stt_stream $listen;
            voice_stt_stream_header X-Bench-Call "$ids";
        }

        location /spec/ {
            voice_media_stream;
            voice_stt_stream $listen;
            voice_stt_stream_header X-Bench-Call "$ids";
            voice_speculative on;
            voice_speculative_silence ${spec_ms}ms;
        }

$(bench_provider_locations "$pport")
    }
}
CONF

delays="--stt-delay $stt_ms --final-delay $final_ms --llm-delay $llm_ms"
delays="$delays --gap $gap_ms --tts-delay $tts_ms"

nginx_up=""
stop_all() {
    bench_providers_stop
    [ -z "$nginx_up" ] || nginx_stop "$prefix" || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# a fresh nginx: its only worker in $worker
nginx_fresh() {
    [ -z "$nginx_up" ] || nginx_stop "$prefix" || true
    for _i in 1 2 3 4 5 6 7 8 9 10; do
        [ -f "$prefix/logs/nginx.pid" ] || break
        sleep 0.1
    done
    nginx_start "$prefix"
    nginx_up=1
    sleep 0.3
    worker=$(nginx_worker "$prefix")
}

# one run: $2 calls at /$1/, each asking $turns questions, through the
# relay; voice-sim's JSON report in $3.json
sim_run() {
    _cfg=$1
    _n=$2
    _out=$3
    set --
    _i=0
    while [ $_i -lt "$turns" ]; do
        case $((_i % 4)) in
        0) set -- "$@" --say "What are your opening hours today?" ;;
        1) set -- "$@" --say "Do you open on Saturdays as well?" ;;
        2) set -- "$@" --say "Can I book a table for four people?" ;;
        3) set -- "$@" --say "Is there parking near the restaurant?" ;;
        esac
        _i=$((_i + 1))
    done
    $load "$sim" --stream-url "ws://127.0.0.1:$rport/$_cfg/bench" \
        --pause 400 --calls "$_n" --ramp 20 --json \
        --timeout $((turns * 8 + 30)) "$@" > "$_out.json" 2> "$_out.err" \
        || true
}

echo "stream: voice-to-voice, batch STT against streaming STT, one nginx worker"
echo "($(nproc) cores: $(cpu_model); $("$nginx" -v 2>&1 | sed 's/.*: //'))"
echo "fake providers: batch STT ${stt_ms} ms, streaming final ${final_ms} ms" \
    "after Finalize, LLM first words ${llm_ms} ms and first sentence" \
    "$((llm_ms + gap_ms)) ms, TTS first byte ${tts_ms} ms;" \
    "voice_vad_silence ${vad_ms}ms, voice_speculative_silence ${spec_ms}ms"
echo
printf '%-7s %5s  %-38s %6s %9s %9s %9s\n' config calls figure n p50 p99 max

# the floor: two processes waking each other after idle gaps, no nginx
$load "$bp" --wake 500 | awk '{
    printf "%-7s %5s  %-38s %6d %9.3f %9.3f %9.3f\n", "-", "-",
           "machine: wake-up round trip (ms)", 500, $1, $3, $4 }'

results=$prefix/results
: > "$results"

for cfg in $configs; do
    nginx_fresh

    # memory: silent calls, each with its streaming connection open
    if [ "$cfg" != spec ]; then
        bench_providers_start "$prefix/mem-$cfg" "$delays"
        rss0=$(worker_rss "$worker")
        $load "$sim" --stream-url "ws://127.0.0.1:$port/$cfg/mem" \
            --silence-after 4000 --calls "$mem_calls" --ramp 10 \
            --timeout 30 > "$prefix/sim-mem-$cfg.out" 2>&1 &
        simpid=$!
        sleep 3
        rss1=$(worker_rss "$worker")
        wait $simpid || true
        bench_providers_stop
        opened=$(grep -c ' stt_open ' "$prefix/mem-$cfg-providers.log" || true)
        echo "mem $cfg $mem_calls $rss0 $rss1 $opened" >> "$results"
    fi

    for n in $calls; do
        run=$prefix/$cfg-$n
        bench_providers_start "$run" "$delays"
        from=$(($(wc -l < "$prefix/logs/info.log") + 1))
        c0=$(worker_cpu_us "$worker")
        w0=$(worker_waited_us "$worker")
        s0=$(date +%s%N)

        sim_run "$cfg" "$n" "$run"

        usage="$(($(worker_cpu_us "$worker") - c0))"
        usage="$usage $(($(worker_waited_us "$worker") - w0))"
        usage="$usage $((($(date +%s%N) - s0) / 1000))"
        bench_providers_stop
        tail -n +"$from" "$prefix/logs/info.log" > "$run-info.log"

        perl "$top/tools/bench/stream-figures.pl" "$cfg" "$n" "$turns" \
            "$run.json" "$run-info.log" "$run-providers.log" \
            "$run-relay.log" "$usage" \
            "$stt_ms $final_ms $((llm_ms + gap_ms)) $tts_ms" "$results"
    done
done

perl "$top/tools/bench/stream-report.pl" "$results" "$vad_ms" "$spec_ms" \
    "$final_ms" "$((llm_ms + gap_ms))" "$tts_ms"

echo
echo "reproduce: make bench BENCH=stream BENCH_STREAM_CALLS=\"$calls\"" \
    "BENCH_TURNS=$turns \\"
echo "    BENCH_STREAM_CONFIGS=\"$configs\" BENCH_MEM_CALLS=$mem_calls \\"
echo "    BENCH_STT_MS=$stt_ms BENCH_FINAL_MS=$final_ms BENCH_LLM_MS=$llm_ms" \
    "BENCH_GAP_MS=$gap_ms BENCH_TTS_MS=$tts_ms"
echo "(one configuration alone: BENCH_STREAM_CONFIGS=batch, stream or spec;"
echo " times in the providers' and the relay's logs are the kernel's receive"
echo " stamps and the moment before each write, CLOCK_REALTIME, one clock)"
