#!/usr/bin/perl

# The agent with streaming speech-to-text (voice_stt_stream) against a
# fake recognizer speaking Deepgram's and OpenAI's protocols: what the
# recognizer gets, its transcripts reaching the LLM, interim words gating
# barge-in, and the batch voice_stt location taking over when the
# recognizer is gone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use List::Util qw(max sum0);
use VoiceTest qw(slurp spit);
use VoiceAudio qw(wav_pcm ulaw_linear pcm16 speak);
use FakeProvider;
use FakeStreamingSTT;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");
my $rec = FakeStreamingSTT->new(dir => "$dir/rec");
my $key = 'key-' . int(rand 1e9);
$rec->key($key);

my $listen = $rec->listen_url('encoding=mulaw&sample_rate=8000&channels=1'
    . '&interim_results=true&smart_format=true');
my $realtime = $rec->realtime_url;

# $fake_key is nginx's variable, not Perl's
$t->run_agent($fake, <<"CONF");
        location /dg/ {
            voice_media_stream;
            set \$fake_key "$key";
            voice_stt_stream "$listen";
            voice_stt_stream_header Authorization "Token \$fake_key";
        }

        location /dg-no-ignore/ {
            voice_media_stream;
            set \$fake_key "$key";
            voice_stt_stream "$listen";
            voice_stt_stream_header Authorization "Token \$fake_key";
            voice_barge_in_ignore uh-huh;
        }

        location /oa/ {
            voice_media_stream;
            set \$fake_key "$key";
            voice_stt_stream "$realtime";
            voice_stt_stream_dialect openai;
            voice_stt_stream_header Authorization "Bearer \$fake_key";
            voice_stt_stream_header OpenAI-Beta realtime=v1;
        }
CONF

# the caller's audio, built here as raw μ-law so that every byte the
# simulator sends is known

# G.711's μ-law of a PCM16 sample (a negative near zero is 0x7f, so the
# audio has bytes that a decode and encode would not give back)
my @SEG_END = (0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff);

sub ulaw_byte {
    my ($pcm) = @_;
    my $mask = 0xff;
    if ($pcm < 0) {
        $pcm = -$pcm;
        $mask = 0x7f;
    }
    $pcm = 32635 if $pcm > 32635;
    $pcm += 0x84;
    my $seg = 0;
    $seg++ while $pcm > $SEG_END[$seg];
    return (($seg << 4) | (($pcm >> ($seg + 3)) & 0x0f)) ^ $mask;
}

sub ulaw { pack 'C*', map { ulaw_byte($_) } @_ }

# espeak-ng's 22050 Hz speech at 8 kHz (linear interpolation is enough
# for an endpointer and a fake recognizer)
my %said;
sub said {
    my ($text) = @_;
    return $said{$text} //= do {
        my ($rate, $pcm) = wav_pcm(slurp(speak("$dir/say.wav", $text, 160)));
        my @s = pcm16($pcm);
        my @out;
        for (my $pos = 0; $pos < $#s; $pos += $rate / 8000) {
            my $i = int $pos;
            push @out, int($s[$i] + ($s[$i + 1] - $s[$i]) * ($pos - $i));
        }
        ulaw(@out);
    };
}

# Parts: text to say, a number of ms of silence, or "noise MS" (white
# noise at about -17 dBFS).  Returns the μ-law and, for each part that
# is not silence, [first, end] of its loud bytes.
sub caller_audio {
    my (@parts) = @_;
    my ($audio, @spans) = ('');
    srand 7;
    for my $p (@parts) {
        if ($p =~ /^\d+$/) {
            $audio .= "\xff" x (8 * $p);
            next;
        }
        my $bytes = $p =~ /^noise (\d+)$/
            ? ulaw(map { int(rand 12000) - 6000 } 1 .. 8 * $1) : said($p);
        my @loud = grep { abs(ulaw_linear(ord substr $bytes, $_, 1)) > 300 }
            0 .. length($bytes) - 1;
        my $at = length $audio;
        push @spans, [$at + $loud[0], $at + $loud[-1] + 1];
        $audio .= $bytes;
    }
    return ($audio, \@spans);
}

# the simulator's --json report of a call that must complete
sub report {
    my ($path, $rc, $out, $log) = @_;
    my $report = eval { decode_json($out)->{calls}[0] } || {};
    ok($rc == 0 && $report->{ok}, "$path: the call completes")
        or diag $out, $log;
    return $report;
}

# error.log from the last call's start
my $log_mark = 0;
sub call_log { substr $t->error_log, $log_mark }

# a call playing those parts in real time: (report, what was sent, spans)
sub call {
    my ($path, $parts, @opt) = @_;
    $log_mark = length $t->error_log;
    my ($audio, $spans) = caller_audio(@$parts);
    spit("$dir/caller.ulaw", $audio);
    my $after = 2500;
    my $report = report($path, $t->call($path, "--play-ulaw $dir/caller.ulaw",
        "--silence-after $after --json -v --save-sent $dir/sent.raw", @opt));
    is(slurp("$dir/sent.raw"), pack('s<*', map { ulaw_linear(ord) }
        split //, $audio), "$path: the simulator sent the audio built");
    # what the simulator sent: the audio, then μ-law silence in 20 ms frames
    my $sent = $audio . "\xff" x (8 * $after + 160);
    return ($report, $sent, $spans);
}

# the recognizer's last connection, once it is over
sub last_conn {
    my $i = $rec->connections - 1;
    ok($rec->wait_ended($i, 10), 'the recognizer connection was closed')
        or diag 'connection ', $i, ': ', $rec->request($i);
    return $i;
}

# the content of message $k of an LLM request (undef when there is none)
sub message {
    my ($req, $k) = @_;
    my @m = @{ ($req || {})->{messages} || [] };
    return ($m[$k] || {})->{content};
}

sub user_turns { map { message($_, -1) } $fake->json_requests('llm') }

# Checks that an utterance's audio at the recognizer is a slice of what
# the caller sent, byte for byte, and holds all of one span of speech,
# from at most 300 ms before it (and the 100 ms the endpointer may hear
# before the loud part) to at most a second after it (voice_vad_silence).
sub is_utterance {
    my ($got, $sent, $span, $name) = @_;
    my $at = index $sent, $got;
    ok(length $got && $at >= 0,
        "$name: byte for byte the caller's audio (no transcoding)")
        or return diag 'got ', length $got, ' bytes, not found in what was '
        . 'sent';
    ok($at <= $span->[0] && $at + length($got) >= $span->[1],
        "$name: all of the speech")
        or diag "sent $at .. ", $at + length $got, ", speech $span->[0] .. "
        . $span->[1];
    cmp_ok($span->[0] - $at, '<=', 8 * 400,
        "$name: at most 300 ms of audio from before the speech");
    cmp_ok($at + length($got) - $span->[1], '<=', 8 * 1000,
        "$name: and not the silence after it");
}

my $q1 = 'What are your opening hours?';
my $q2 = 'And on Sundays?';
my $long = 'Sure thing. We are open every single day of the week from nine '
    . 'in the morning until five in the evening. On weekends we open a '
    . 'little later, at ten, and close a little earlier, at four. '
    . 'Is there anything else I can help you with today?';

# the fake TTS's audio of a sentence is one μ-law byte: 0x7f would decode
# to silence and hide that the agent is speaking
die "a sentence of the long reply would be silent\n"
    if grep { FakeProvider::tag($_) == 0x7f } split /(?<=[.?]) /, $long;

sub fresh {
    my (%a) = @_;
    $fake->reset->transcripts(@{ $a{batch} || ['BATCH'] })
        ->replies(@{ $a{replies} || ['Nine to five.'] });
    $rec->reset->key($key)->interim_every(1600)
        ->transcripts(@{ $a{stream} || [$q1, $q2] });
}

# Deepgram: two utterances with a long pause between them.  The
# recognizer gets each utterance's audio exactly, the configured header,
# a Finalize after each and KeepAlives in the pause; its transcripts are
# the user turns; the batch location is not used.

fresh();
my ($report, $sent, $spans) = call('/dg/pause', [300, $q1, 7000, $q2]);
is($rec->connections, 1, 'one recognizer connection for the call');
my $c = last_conn();
is($rec->path($c), '/v1/listen', 'Deepgram\'s path');
is_deeply([@{ $rec->query($c) }{qw(encoding sample_rate)}], ['mulaw', 8000],
    'the configured query');
is($rec->headers($c)->{authorization}, "Token $key",
    'voice_stt_stream_header, its variable evaluated');
my @names = keys %{ $rec->headers($c) };
ok(@names && !grep(/twilio/i, @names), 'none of the caller\'s headers');

my @u = $rec->utterances($c);
is(scalar @u, 2, 'a Finalize after each utterance');
is_utterance($u[0] // '', $sent, $spans->[0], 'first utterance');
is_utterance($u[1] // '', $sent, $spans->[1], 'second utterance');
is(length $rec->audio($c), sum0(map { length } @u),
    'no audio after the last Finalize');

my @fin = $rec->finalizes($c);
my ($second) = grep { $_->[1] >= length $u[0] } $rec->frames($c);
my @ka = grep { $_ > $fin[0] && $second && $_ < $second->[0] }
    $rec->keepalives($c);
cmp_ok(scalar @ka, '>=', 1, 'KeepAlive during the pause');
my @times = sort { $a <=> $b } map({ $_->[0] } $rec->frames($c)),
    map({ $_->{t} } $rec->message_log($c));
my $gap = max(map { $times[$_] - $times[$_ - 1] } 1 .. $#times) // 99;
cmp_ok($gap, '<', 10, 'never 10 s without a frame (Deepgram\'s limit)');
is((($rec->messages($c))[-1] || {})->{type}, 'CloseStream',
    'CloseStream at the end of the call');
like($rec->ended($c), qr/^((client|server) close 1000|eof)$/,
    'then closed, not cut for a fault') or diag $rec->ended($c);

is_deeply([user_turns()], [$q1, $q2],
    'the recognizer\'s transcripts are the user turns');
is(scalar $fake->requests('stt'), 0, 'the batch STT location is not used');

# A scripted call: the caller asks $q1, then says $words 1.5 s into the
# agent's answer.  Returns the simulator's report and its log.
sub interrupting_call {
    my ($path, $words) = @_;
    my @r = $t->call($path, "--say '$q1' --interrupt 1500",
        "--say '$words' --silence-after 5000 --json -v");
    return (report($path, @r), $r[2]);
}

# barge-in: words from the recognizer while the agent speaks interrupt it

fresh(replies => [$long, 'Closed on Sundays.'],
    stream => [$q1, 'Wait, what about Sundays?']);
my ($log);
($report, $log) = interrupting_call('/dg/barge', 'Wait, what about Sundays?');
cmp_ok($report->{clears} // 0, '>=', 1, 'interim words interrupt: a clear');
like($log, qr/< \{"event":"clear"/, 'the caller got the clear');
my @llm = $fake->json_requests('llm');
is(message($llm[1], -1), 'Wait, what about Sundays?',
    'the interruption is the next user turn');
isnt(message($llm[1], -2), $long,
    'the history keeps only what was heard of the reply');
$c = last_conn();
ok(grep({ ($_->{json}{type} // '') eq 'Results' && !$_->{json}{is_final}
    && $_->{json}{channel}{alternatives}[0]{transcript} =~ /\w/ }
    $rec->sent($c)), 'the recognizer sent interim words');

# a lone "okay" while the agent speaks does not interrupt it

# the first reply's sentences, 20 ms of audio a character, all heard
sub reply_heard {
    my ($report, $name) = @_;
    my ($said, $reply) = ('', 0);
    for my $s ($fake->tts_texts) {
        last if length $said >= length $long;
        $said .= ($said eq '' ? '' : ' ') . $s;
        $reply += 160 * length $s;
    }
    is($said, $long, "$name: the reply went to TTS");
    is($report->{clears}, 0, "$name: no clear");
    cmp_ok($report->{audio_heard_bytes}, '>=', $reply,
        "$name: the whole reply is heard");
}

sub okay_call {
    my ($path) = @_;
    fresh(replies => [$long, 'Fine.'], stream => [$q1, 'Okay.']);
    return (interrupting_call($path, 'Okay.'))[0];
}

reply_heard(okay_call('/dg/okay'), '"okay"');
$c = last_conn();
is(scalar $rec->finalizes($c), 2, '"okay": the recognizer heard it');
ok(grep({ ($_->{json}{channel}{alternatives}[0]{transcript} // '') eq 'Okay.'
    && !$_->{json}{is_final} } $rec->sent($c)),
    '"okay": and sent it as interim words');

# the same "okay" interrupts once voice_barge_in_ignore leaves it out

cmp_ok(okay_call('/dg-no-ignore/okay')->{clears} // 0, '>=', 1,
    '"okay" not ignored: a clear');

# a noise without words while the agent speaks does not interrupt it

fresh(replies => [$long, 'Fine.'], stream => [$q1, '']);
($report, $sent, $spans) = call('/dg/noise', [300, $q1, 2500, 'noise 800',
    6000], "--record-call $dir/call.wav");
reply_heard($report, 'noise');
$c = last_conn();
is(scalar $rec->finalizes($c), 2, 'noise: the recognizer heard it');
# the call in stereo, caller left and agent right: where the noise is
# on the left, the agent's audio plays on the right
my (undef, $stereo) = wav_pcm(slurp("$dir/call.wav"));
my @s = pcm16($stereo);
my $left = pack 's<*', @s[map { 2 * $_ } 0 .. $#s / 2];
my $noise = $spans->[1];
my $at = index $left, pack 's<*', map { ulaw_linear(ord) } split //,
    substr($sent, $noise->[0], $noise->[1] - $noise->[0]);
my $playing = $at < 0 ? 0 : grep { $s[$at + 2 * $_ + 1] }
    0 .. $noise->[1] - $noise->[0] - 1;
cmp_ok($playing, '>', ($noise->[1] - $noise->[0]) / 2,
    'noise: it came while the agent spoke');
is(scalar $fake->json_requests('llm'), 1, 'noise: no turn of its own');

# the recognizer drops mid-utterance: that turn goes to the batch
# location, and the next streams again on a new connection

sub dropped {
    my ($path) = @_;
    fresh(batch => [$q1], stream => ['STREAMED ONE', $q2]);
    $rec->drop_after_bytes(4000, 1);
    my ($report, $sent, $spans) = call($path, [300, $q1, 5000, $q2]);
    is($rec->ended(0), 'drop', "$path drop: the recognizer dropped");
    my @stt = $fake->requests('stt');
    is(scalar @stt, 1, "$path drop: one batch STT request");
    my $pcm = substr($stt[0] // '', index($stt[0] // '', 'RIFF') + 44);
    my $mid = int(($spans->[0][0] + $spans->[0][1]) / 2);
    my $probe = pack 's<*', map { ulaw_linear(ord) } split //,
        substr($sent, $mid, 200);
    ok(index($pcm, $probe) >= 0, "$path drop: with the dropped utterance");
    is_deeply([user_turns()], [$q1, $q2],
        "$path drop: both turns answered, the first through batch STT");
    my $lost = qr/lost \(connection closed by the provider\), reconnecting/;
    like(call_log(), $lost, "$path drop: logged");
    cmp_ok($rec->connections, '>=', 2, "$path drop: a new connection");
    my $c = last_conn();
    my @u = $rec->utterances($c);
    is(scalar @u, 1, "$path drop: the next utterance streams on it");
    is_utterance($u[0] // '', $sent, $spans->[1], "$path drop: it");
}

dropped('/dg/');

# the recognizer refuses every connection: each turn goes to the batch
# location, and the connection is tried again

fresh(batch => [$q1, $q2]);
$rec->refuse(401);
call('/dg/refused', [300, $q1, 3000, $q2]);
is_deeply([user_turns()], [$q1, $q2], 'refused: both turns through batch');
cmp_ok($rec->connections, '>=', 2, 'refused: the connection is tried again');
my @ends = map { $rec->ended($_) } 0 .. $rec->connections - 1;
ok(@ends && !grep({ $_ ne 'refused 401' } @ends), 'refused: every time');
my @delays = call_log()
    =~ /lost \(handshake refused\), reconnecting in (\d+) ms/g;
ok(@delays >= 2 && $delays[-1] > $delays[0]
    && !grep({ $delays[$_] < $delays[$_ - 1] } 1 .. $#delays),
    'refused: logged, each retry later than the one before')
    or diag "retries after @delays ms";

# OpenAI's dialect: the session, the audio as appends, a commit after
# each utterance, the transcripts as user turns

fresh();
($report, $sent, $spans) = call('/oa/two', [300, $q1, 3000, $q2]);
$c = last_conn();
is($rec->path($c), '/v1/realtime', 'openai: the realtime path');
is($rec->headers($c)->{authorization}, "Bearer $key", 'openai: the header');
my @m = $rec->messages($c);
like(($m[0] || {})->{type} // '', qr/^(transcription_session|session)\.update$/,
    'openai: a session update first');
is($rec->session($c)->{format}, 'g711_ulaw', 'openai: μ-law input');
ok(exists $rec->session($c)->{turn_detection}
    && !defined $rec->session($c)->{turn_detection},
    'openai: no server turn detection');
@u = $rec->utterances($c);
is(scalar @u, 2, 'openai: a commit after each utterance');
is_utterance($u[0] // '', $sent, $spans->[0], 'openai: first utterance');
is_utterance($u[1] // '', $sent, $spans->[1], 'openai: second utterance');
ok(!grep({ ($_->{type} // '') eq 'error' } map { $_->{json} } $rec->sent($c)),
    'openai: no error events');
is_deeply([user_turns()], [$q1, $q2], 'openai: the transcripts are the turns');
is(scalar $fake->requests('stt'), 0, 'openai: the batch STT is not used');

dropped('/oa/');

$t->stop;

done_testing;
