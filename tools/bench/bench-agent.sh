#!/bin/sh
# make bench (agent): the module's own latency per hand-off, and the
# memory of a long call.
#
#   tools/bench/bench-agent.sh MODULE SIM BENCH_PROVIDERS [CALLS...]
#
# One nginx worker runs the agent against bench-providers, which
# answers at once and logs when it wrote and read each thing; the calls
# go through its relay, which logs when media arrives from nginx.  For
# each hand-off the time between the two events is the module's work
# plus one loopback hop (and, for provider requests, the TCP connect):
#
#   STT reply -> LLM request   last byte of the transcript written ->
#                              first byte of the chat request read
#   sentence  -> TTS request   the SSE event completing a sentence
#                              written -> first byte of its TTS request
#   TTS byte  -> media frame   first audio byte of a reply written ->
#                              the reply's first media message arriving
#                              from nginx
#
# Only a reply's first audio counts for the last: the reply plays out at
# the pace of speech (voice_playout_lead ahead), so a later sentence's
# audio is due only when those before it have played, and the first
# media message after its bytes is still the one before's.
#
# The first line is the machine's own floor: a round trip between two
# processes that wake each other up (bench-providers --wake).
#
# bench-providers stamps what it reads with the kernel's receive time (on
# loopback, taken while nginx is in its send call) and what it writes
# just before the write, so how late the fake providers get to run does
# not count; how late the worker does, does.
#
# The relay stamps what it reads from nginx with the first byte's
# arrival, not with the kernel's stamp of a TCP read, the last
# segment's: at 1,000 calls the relay, on the core it shares with the
# callers, read a few replies' first media in a hundred 20 to 30 ms
# late, when the next message had come (the second sentence's, then,
# the lead full, the next frame 20 ms on), and that was the row's p99
# (19.9 ms), not nginx's.  Read later still, the kernel may have merged
# what came after into the first segment, which then has the later
# stamp; the row "TTS byte -> relay read it" says how late the relay
# read each reply's first media, so that a tail the two rows share is
# seen to be the relay's.  No reply is held in this bench
# (voice_speculative is off): each plays as its audio comes.
#
# Then one call of BENCH_TURNS_LONG short turns, each as soon as the
# agent answered the one before but the caller's audio no faster than
# real time (the agent drops what is more than 5 s ahead), with the
# worker's RSS read along the way.
set -e

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib.sh"

bench_args bench-agent "$@"
turns=${BENCH_TURNS:-4}
long=${BENCH_TURNS_LONG:-500}

port=$(free_port)
pport=$(free_port)
rport=$(free_port)

new_prefix "$prefix"

# the worker on a core of its own, the rest on the other
bench_pin

nginx_conf_head "$module" "$affinity" > "$prefix/nginx.conf"
cat >> "$prefix/nginx.conf" <<CONF
http {
    access_log off;
    server {
        listen 127.0.0.1:$port backlog=4096;

        location /media/ {
            voice_media_stream;
            voice_stt /_stt;
            voice_llm /_llm;
            voice_tts /_tts;
            voice_system_prompt "You are a receptionist. Be brief.";
        }

        # the long call: short turns, so that many fit in real time
        location /long/ {
            voice_media_stream;
            voice_stt /_stt;
            voice_llm /_llm;
            voice_tts /_tts;
            voice_system_prompt "You are a receptionist. Be brief.";
            voice_vad_silence 100ms;
            voice_vad_min_speech 100ms;
        }

$(bench_provider_locations "$pport")
    }
}
CONF

stop_all() {
    bench_providers_stop
    nginx_stop "$prefix" || true
}
trap stop_all EXIT

# VOICE_PRELOAD (as for the tests) runs a sanitizer build of the module
nginx_start "$prefix" env ${VOICE_PRELOAD:+LD_PRELOAD="$VOICE_PRELOAD"} \
    ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0
sleep 0.3
worker=$(nginx_worker "$prefix")

# the caller: a question, then silence for the reply, $turns times

espeak-ng -s 160 -w "$prefix/q.wav" "What are your opening hours today?"
perl - "$prefix/q.wav" "$prefix/caller.wav" "$turns" 2500 <<'PERL'
my ($in, $out, $turns, $gap) = @ARGV;
open my $fh, '<:raw', $in or die "$in: $!";
local $/;
my $w = <$fh>;
my $rate = unpack 'V', substr($w, 24, 4);
my $q = substr($w, index($w, 'data') + 8);
my $pcm = ($q . ("\0\0" x int($rate * $gap / 1000))) x $turns;
open $fh, '>:raw', $out or die "$out: $!";
print $fh 'RIFF', pack('V', 36 + length $pcm), 'WAVEfmt ',
    pack('VvvVVvv', 16, 1, 1, $rate, $rate * 2, 2, 16),
    'data', pack('V', length $pcm), $pcm;
PERL

echo "agent: the module's own latency per hand-off, one nginx worker"
echo "($(nproc) cores: $(cpu_model); $("$nginx" -v 2>&1 | sed 's/.*: //'))"
echo
printf '%6s  %-26s %6s %8s %8s %8s %8s\n' calls hand-off n p50 p90 p99 max

# the floor: two processes waking each other after idle gaps, no nginx
$load "$bp" --wake 500 | awk '{
    printf "%6s  %-26s %6d %8.3f %8.3f %8.3f %8.3f\n", "-",
           "machine: wake-up round trip", 500, $1, $2, $3, $4 }'

for n in $calls; do
    bench_providers_start "$prefix/$n" ""
    c0=$(worker_cpu_us "$worker")
    w0=$(worker_waited_us "$worker")
    s0=$(date +%s%N)

    # starts 50 ms apart, or over 5 s: a thousand calls all at once
    ramp=$((5000 / n))
    [ "$ramp" -le 50 ] || ramp=50
    [ "$ramp" -ge 1 ] || ramp=1

    $load "$sim" --stream-url "ws://127.0.0.1:$rport/media/bench" \
        --play "$prefix/caller.wav" --silence-after 1500 --calls "$n" \
        --ramp "$ramp" --timeout $((turns * 5 + n / 10 + 60)) \
        > "$prefix/sim-$n.out" 2>&1 || true

    c1=$(worker_cpu_us "$worker")
    w1=$(worker_waited_us "$worker")
    s1=$(date +%s%N)
    bench_providers_stop

    failed=$(sed -n 's/.* calls, \([0-9]*\) failed/\1/p' "$prefix/sim-$n.out")
    usage=$(awk -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v s=$(((s1 - s0) / 1000)) \
        'BEGIN { printf "worker %.1f%% CPU, %.0f ms waiting for a CPU",
                        100 * c / s, w / 1000 }')

    perl - "$n" "$prefix/$n-providers.log" "$prefix/$n-relay.log" \
        "${failed:-?}" "$usage" <<'PERL'
my ($calls, $plog, $rlog, $failed, $usage) = @ARGV;
my (%last_stt, %sent, %media, @h1, @h2, @h3, @read);
open my $fh, '<', $rlog or die "$rlog: $!";
while (<$fh>) {
    my ($t, $ev, $sid, $k) = split;
    push @{ $media{$sid} }, [$t, $k] if $ev eq 'media';
}
@$_ = sort { $a->[0] <=> $b->[0] } @$_ for values %media;
open $fh, '<', $plog or die "$plog: $!";
my @ev = sort { $a->[0] <=> $b->[0] } map { [split] } <$fh>;
for (@ev) {
    my ($t, $ev, $id, $k) = @$_;
    my ($stream) = $id =~ m{/(\S+)$};
    if ($ev eq 'stt_reply') {
        $last_stt{$id} = $t;
    } elsif ($ev eq 'llm_req' && defined $last_stt{$id}) {
        push @h1, $t - delete $last_stt{$id};
    } elsif ($ev eq 'llm_sent') {
        $sent{"$id $k"} = $t;
    } elsif ($ev eq 'tts_req' && defined $sent{"$id $k"}) {
        push @h2, $t - delete $sent{"$id $k"};
    } elsif ($ev eq 'tts_first' && $k == 0) {
        my ($m) = grep { $_->[0] >= $t } @{ $media{$stream} || [] };
        next unless defined $m;
        push @h3, $m->[0] - $t;
        push @read, $m->[0] + $m->[1] - $t;
    }
}
sub show {
    my ($name, @v) = @_;
    @v = sort { $a <=> $b } @v;
    my $p = sub { @v ? $v[int($_[0] * $#v + 0.5)] / 1000 : 0 };
    printf "%6d  %-26s %6d %8.3f %8.3f %8.3f %8.3f\n", $calls, $name,
        scalar @v, $p->(0.5), $p->(0.9), $p->(0.99), $p->(1);
}
show('STT reply -> LLM request', @h1);
show('sentence -> TTS request', @h2);
show('TTS byte -> media frame', @h3);
show('TTS byte -> relay read it', @read);
print "        (ms; $failed failed calls; $usage)\n";
PERL
done

# a long call: BENCH_TURNS_LONG turns, each answered at once, the next
# question as soon as the reply's marks came back, but never more than
# 4 s of the caller's audio ahead of real time

bench_providers_start "$prefix/long" "--gap 0 --audio 160"

echo
echo "memory: one call of $long turns, the caller's audio in real time"
echo

perl -I"$top/t/lib" - "$port" "$worker" "$long" <<'PERL'
use strict;
use warnings;
use VoiceWS;
use MIME::Base64 qw(encode_base64);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time sleep);

my ($port, $worker, $turns) = @ARGV;

sub rss {
    open my $fh, '<', "/proc/$worker/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

sub ulaw {
    my ($s) = @_;
    my $sign = $s < 0 ? 0x80 : 0;
    $s = -$s if $s < 0;
    $s = 32635 if $s > 32635;
    $s += 0x84;
    my $exp = 7;
    for (my $m = 0x4000; !($s & $m) && $exp > 0; $m >>= 1) { $exp-- }
    return chr(~($sign | ($exp << 4) | (($s >> ($exp + 3)) & 0x0f)) & 0xff);
}

# a turn of 400 ms: silence (the VAD's floor starts from the first
# frame), 200 ms of a 300 Hz tone (speech to the VAD, longer than
# voice_vad_min_speech; the STT is fake), then 160 ms of silence, longer
# than voice_vad_silence
my $tone = join '', map { ulaw(int(8000 * sin(2 * 3.14159265 * 300 * $_
    / 8000))) } 0 .. 159;
my $quiet = "\xff" x 160;
my @frames = map { encode_base64($_, '') } ($quiet) x 2, ($tone) x 10,
    ($quiet) x 8;
my $ahead = 4;                  # seconds of audio, under the agent's 5

my $ws = VoiceWS->connect(port => $port, path => '/long/call');
die "handshake: " . $ws->status . "\n" unless $ws->status == 101;
setsockopt($ws->socket, IPPROTO_TCP, TCP_NODELAY, 1);
my $stream = 'MZ' . ('0' x 31) . '1';
$ws->begin(stream => $stream, call => 'CA' . ('0' x 31) . '1');

my $rss0 = rss();
my %at = map { $_ => 1 } 1, 10, 100, 250, 500, $turns;
my ($seq, $t0, $done) = (1, time, 0);
my %rss;

TURN: for my $turn (1 .. $turns) {

    # no more than $ahead s ahead of real time, this turn's audio included
    my $due = $t0 + $turn * @frames * 0.02 - $ahead;
    sleep($due - time) if $due > time;

    my $msgs = '';
    for my $f (@frames) {
        $seq++;
        $msgs .= VoiceWS::frame(op => 1, payload => '{"event":"media",'
            . qq("sequenceNumber":"$seq","media":{"track":"inbound",)
            . qq("chunk":"$seq","timestamp":"@{[$seq * 20]}",)
            . qq("payload":"$f"},"streamSid":"$stream"}));
    }
    $ws->send_raw($msgs);

    # the reply: three sentences, a mark after each
    my $marks = 0;
    while ($marks < 3) {
        my ($op, $p) = $ws->read_frame(10);
        last TURN unless defined $op;
        next unless $op == 1 && $p =~ /"event":"mark"/;
        my ($name) = $p =~ /"name":"([^"]+)"/;
        $ws->send_json({ event => 'mark', streamSid => $stream,
            sequenceNumber => '' . ++$seq, mark => { name => $name } });
        $marks++;
    }

    $done = $turn;
    $rss{$turn} = rss() if $at{$turn};
}

my $secs = time - $t0;
$ws->send_json({ event => 'stop', streamSid => $stream,
    sequenceNumber => '' . ++$seq, stop => {} });

printf "%8s %14s %14s\n", 'turn', 'worker RSS', 'growth';
printf "%8d %10d KiB %10s\n", 0, $rss0, '';
for my $t (sort { $a <=> $b } keys %rss) {
    printf "%8d %10d KiB %10d KiB\n", $t, $rss{$t}, $rss{$t} - $rss0;
}
my ($a, $b) = (100, $done);
if ($done > 100 && $rss{$a} && $rss{$b}) {
    printf "per turn, turns %d to %d: %.0f bytes\n", $a, $b,
        1024 * ($rss{$b} - $rss{$a}) / ($b - $a);
}
printf "%d of %d turns answered in %.1f s\n", $done, $turns, $secs;
exit($done == $turns ? 0 : 1);
PERL

bench_providers_stop

echo
echo "reproduce: make bench BENCH=agent BENCH_AGENT_CALLS=\"$calls\"" \
    "BENCH_TURNS=$turns BENCH_TURNS_LONG=$long"
echo "(hand-offs: bench-providers answers at once and stamps what it reads as"
echo " the kernel received it, what it writes before the write; each hand-off"
echo " includes one loopback hop, and a TCP connect for provider requests;"
echo " RSS is the worker's, read while the call is live)"
