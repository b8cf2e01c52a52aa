#!/usr/bin/perl

# Speculative turns (voice_speculative): the transcript, the LLM and the
# TTS requests start after voice_speculative_silence, but nothing plays
# before voice_vad_silence; a caller who goes on first gets one reply, to
# the whole utterance, and the abandoned one is never heard nor kept.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use VoiceTest qw(slurp spit);
use VoiceAudio qw(wav wav_pcm ulaw_linear pcm16 speak);
use FakeProvider;
use FakeStreamingSTT;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");
my $rec = FakeStreamingSTT->new(dir => "$dir/rec");
my $listen = $rec->listen_url('encoding=mulaw&sample_rate=8000&channels=1'
    . '&smart_format=true');

$t->run_agent($fake, <<"CONF");
        voice_system_prompt "Be brief.";
        voice_speculative on;
        voice_speculative_silence 200ms;
        voice_vad_silence 500ms;

        location /batch/ {
            voice_media_stream;
        }

        location /stream/ {
            voice_media_stream;
            voice_stt_stream "$listen";
        }

        location /long/ {
            voice_media_stream;
            voice_vad_silence 1500ms;
        }
CONF

# the caller: espeak-ng's speech with its quiet head and tail cut off, so
# that a pause between two parts is exactly the silence put there

# a sample of speech, not of the quiet around it
sub loud { abs $_[0] > 300 }

sub trimmed {
    my @at = grep { loud($_[$_]) } 0 .. $#_;
    return @_[$at[0] .. $at[-1]];
}

my %said;
sub speech {
    my ($text) = @_;
    return $said{$text} //= do {
        my ($rate, $pcm) = wav_pcm(slurp(speak("$dir/say.wav", $text, 160)));
        [$rate, pack 's<*', trimmed(pcm16($pcm))];
    };
}

# parts: text to say or a number of ms of silence, at espeak-ng's rate
sub caller_wav {
    my ($file, @parts) = @_;
    my ($rate) = map { speech($_)->[0] } grep { !/^\d+$/ } @parts;
    my $pcm = join '', map {
        /^\d+$/ ? "\0\0" x int($rate * $_ / 1000) : speech($_)->[1]
    } @parts;
    spit($file, wav($rate, $pcm));
}

# A call playing those parts in real time, then hanging up once the
# agent is quiet: (report, the simulator's -v log).  What the caller
# received is heard.raw, what it sent sent.raw, both PCM16.
sub call {
    my ($path, $parts, @opt) = @_;
    caller_wav("$dir/caller.wav", @$parts);
    my ($rc, $out, $log) = $t->call($path, "--play $dir/caller.wav",
        "--silence-after 500 --json -v --record-raw $dir/heard.raw",
        "--save-sent $dir/sent.raw", @opt);
    my $report = eval { decode_json($out)->{calls}[0] } || {};
    ok($rc == 0 && $report->{ok}, "$path: the call completes")
        or diag $out, $log;
    return ($report, $log);
}

# what the caller received, as runs of [TTS text, samples]: each TTS
# sentence's audio is its tag, so whose audio it was can be told
sub heard_runs {
    my (@texts) = @_;
    my %text = map { ulaw_linear(FakeProvider::tag($_)) => $_ } @texts;
    my @runs;
    for my $v (pcm16(slurp("$dir/heard.raw"))) {
        my $who = $text{$v} // "other $v";
        if (@runs && $runs[-1][0] eq $who) {
            $runs[-1][1]++;
        } else {
            push @runs, [$who, 1];
        }
    }
    return \@runs;
}

# the whole of each sentence's audio, once, in order
sub whole { [map { [$_, 160 * length $_] } @_] }

# the names of the marks the agent sent
sub marks { $_[0] =~ /^\[\d+\] < \{"event":"mark".*?"name":"([^"]+)"/mg }

sub messages { @{ ($_[0] || {})->{messages} || [] } }

# the user's turn an LLM request answers
sub user_turn { ((messages($_[0]))[-1] || {})->{content} // '' }

sub fresh {
    my (%a) = @_;
    $fake->reset->transcripts(@{ $a{batch} || ['BATCH'] })
        ->replies(@{ $a{replies} });
    $rec->reset->transcripts(@{ $a{stream} || ['STREAMED'] });
}

sub dropped_logged {
    return scalar(() = $t->error_log
        =~ /caller went on speaking, speculative reply dropped unheard/g);
}

my $part1 = 'What are your';
my $part2 = 'opening hours?';
my $whole = "$part1 $part2";
my $q2 = 'And on Sundays?';
my @early = ('Early answer.', 'Then more.');
my $reply = 'Nine to five.';
my $reply2 = 'Closed on Sundays.';
my @texts = (@early, $reply, $reply2);

my %tags = map { FakeProvider::tag($_) => 1 } @texts;
is(scalar keys %tags, scalar @texts, 'each reply\'s audio tells it apart');

# The reply a caller who went on got, checked the same for both
# recognizers: the speculative LLM request had the first part alone; the
# reply played answers the whole utterance; the abandoned reply's audio
# never reached the caller, and no later request keeps it or its turn.
sub went_on {
    my ($name, $report, $log, @more) = @_;
    my @llm = $fake->json_requests('llm');
    cmp_ok(scalar @llm, '>=', 2, "$name: the LLM got the speculative "
        . 'request and the real one');
    is(user_turn($llm[0]), $part1,
        "$name: the speculative request had the first part");
    is(user_turn($llm[1]), $whole, "$name: the next one, whose reply "
        . 'was played, had the whole utterance')
        or diag explain [map { user_turn($_) } @llm];
    is_deeply(heard_runs(@texts), whole($reply, @more),
        "$name: the caller heard its reply once, whole, and nothing of the "
        . 'abandoned one') or diag explain heard_runs(@texts);
    note "$name: the abandoned reply reached TTS: ",
        join(', ', grep { my $s = $_; grep { $_ eq $s } @early }
            $fake->tts_texts) || 'no';
    my @marks = marks($log);
    is(scalar @marks, 1 + @more, "$name: one set of marks, a mark a "
        . 'sentence heard') or diag explain \@marks;
    is($report->{marks_returned}, scalar @marks, "$name: every mark back");
    is($report->{clears}, 0, "$name: no clear: nothing was sent to clear");
    my @bad = grep {
        my $m = $_->{content};
        $m eq $part1 || grep { index($m, $_) >= 0 } @early
    } map { messages($_) } @llm[1 .. $#llm];
    ok(!@bad, "$name: no later request holds the abandoned turn or its "
        . 'reply') or diag explain \@bad;
    return @llm;
}

# 1. Batch STT: the caller pauses 350 ms mid-sentence (more than
# voice_speculative_silence, less than voice_vad_silence) and goes on.
# The first part went to STT and the LLM, and its reply to TTS, but the
# caller hears only the reply to the whole utterance; a second question
# later finds in the history that turn and its reply, and nothing of the
# abandoned one.

fresh(batch => [$part1, $whole, $q2],
    replies => [join(' ', @early), $reply, $reply2]);
my $before = dropped_logged();
my ($report, $log) = call('/batch/went-on',
    [300, $part1, 350, $part2, 2500, $q2, 2000]);
my @llm = went_on('batch', $report, $log, $reply2);
my @stt = $fake->requests('stt');
cmp_ok(scalar @stt, '>=', 3, 'batch: STT got the first part, the whole '
    . 'utterance and the second question');
is_deeply([messages($llm[-1])], [
    { role => 'system', content => 'Be brief.' },
    { role => 'user', content => $whole },
    { role => 'assistant', content => $reply },
    { role => 'user', content => $q2 },
], 'batch: the history is the whole turn and the reply heard');
is(dropped_logged() - $before, 1, 'batch: the dropped reply is logged');

# 2. The streaming recognizer (Deepgram): a Finalize at the speculation
# point, in the pause; the rest of the utterance streams after it; the
# recognizer's two transcripts make the one turn played.

fresh(stream => [$part1, $part2], replies => [join(' ', @early), $reply]);
$before = dropped_logged();
($report, $log) = call('/stream/went-on', [300, $part1, 350, $part2, 2000]);
went_on('stream', $report, $log);

my $c = $rec->connections - 1;
ok($rec->wait_ended($c, 10), 'stream: the recognizer connection was closed');
my @u = $rec->utterances($c);
cmp_ok(scalar @u, '>=', 2, 'stream: a Finalize in the pause, and after it');

# where each part's speech is in what the caller sent: the loud samples
# either side of the one gap longer than 200 ms
my @sent = pcm16(slurp("$dir/sent.raw"));
my @loud = grep { loud($sent[$_]) } 0 .. $#sent;
my ($gap) = grep { $loud[$_ + 1] - $loud[$_] > 8 * 200 } 0 .. $#loud - 1;
my $sent = pack 's<*', @sent;
my @at = map {
    my $at = index $sent, pack 's<*', map { ulaw_linear(ord) } split //, $_;
    $at % 2 ? -1 : $at / 2;
} @u[0, 1];
ok(defined $gap && $at[0] >= 0 && $at[1] >= 0,
    'stream: the recognizer got the caller\'s audio')
    or diag "gap ", $gap // 'none', ", utterances at @at";
$gap //= 0;
cmp_ok($at[0] + length $u[0], '>', $loud[$gap],
    'stream: the Finalize came after the first part');
cmp_ok($at[0] + length $u[0], '<', $loud[$gap + 1],
    'stream: and before the caller went on');
cmp_ok($at[1], '<=', $loud[$gap + 1],
    'stream: the audio after it starts where the caller went on');
cmp_ok($at[1] + length $u[1], '>', $loud[-1], 'stream: and holds the rest');
is(scalar $fake->requests('stt'), 0, 'stream: the batch STT is not used');
is(dropped_logged() - $before, 1, 'stream: the dropped reply is logged');

# 3. A caller who stops cleanly: the speculative request is the turn's
# only one, and its reply, ready early, plays only once the silence is
# confirmed: in the call's recording the agent's first audio starts
# voice_vad_silence (less 100 ms for the endpointer's frames) or more
# after the caller's last speech.  /long/ waits 1500 ms, far longer than
# the reply takes to be ready.

# ms from the caller's last speech to the agent's first audio in a stereo
# recording (caller left, agent right)
sub reply_after {
    my ($wav) = @_;
    my (undef, $pcm) = wav_pcm(slurp($wav));
    my @s = pcm16($pcm);
    my ($agent) = grep { $s[2 * $_ + 1] } 0 .. $#s / 2;
    return undef unless defined $agent;
    my ($caller) = grep { loud($s[2 * $_]) } reverse 0 .. $agent;
    return ($agent - ($caller // 0)) / 8;
}

for my $case (['/batch/stop', 500], ['/long/stop', 1500]) {
    my ($path, $silence) = @$case;
    fresh(batch => [$whole], replies => [$reply]);
    $before = dropped_logged();
    ($report, $log) = call($path, [300, $whole, 2500],
        "--record-call $dir/call.wav");
    is(scalar $fake->requests('llm'), 1, "$path: one LLM request");
    is(scalar $fake->requests('stt'), 1, "$path: one STT request");
    is_deeply(heard_runs($reply), whole($reply),
        "$path: its reply is heard, whole");
    is(dropped_logged() - $before, 0, "$path: nothing dropped");
    my $after = reply_after("$dir/call.wav");
    note "$path: the agent's first audio came ", $after // 'never',
        ' ms after the caller\'s last speech';
    cmp_ok($after // 0, '>=', $silence - 100,
        "$path: nothing played before $silence ms of silence")
        or diag "the agent's audio began ", $after // 'never',
        ' ms after the caller\'s speech';
}

$t->stop;

# 4. nginx -t refuses a speculative silence that is not shorter than the
# silence that ends an utterance (500 ms by default), and says why

my $conf = VoiceTest->new;
my $why = '"voice_speculative_silence" must be at least 20ms and less than '
    . '"voice_vad_silence" (500)';
for my $silence (600, 500) {
    my $line = "voice_speculative on; voice_speculative_silence ${silence}ms;";
    $conf->write_conf(<<"CONF");
    server {
        listen 127.0.0.1:%%PORT%%;
        location /m {
            voice_media_stream;
            voice_stt /s; voice_llm /l; voice_tts /t;
            $line
        }
    }
CONF
    my ($rc, $out) = $conf->conf_test;
    isnt($rc, 0, "$line refused with the default voice_vad_silence");
    like($out, qr/\Q$why\E/, "$line: a clear message") or diag $out;
}

done_testing;
