#!/usr/bin/perl

# The agent over whole calls in real time: barge-in, every provider
# failure (the call goes on and the next utterance works), the caller
# hanging up mid-request, greeting and DTMF.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(decode_base64);
use VoiceTest qw(slurp spit);
use VoiceAudio qw(wav wav_pcm speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");
my $closed = VoiceTest::free_port();

$t->run_agent($fake, <<"CONF", llm => 'proxy_read_timeout 1s;');
        voice_system_prompt "Be brief.";

        location /media/ {
            voice_media_stream agent;
        }

        location /greet/ {
            voice_media_stream agent;
            voice_greeting "Hello! How can I help?";
        }

        location /refused/ {
            voice_media_stream agent;
            voice_stt /_refused;
        }

        location = /_refused {
            internal;
            proxy_pass http://127.0.0.1:$closed/stt;
        }
CONF

# caller audio: phrases with silences between them, 8 kHz PCM16 WAV

my %said;
sub speech {
    my ($text) = @_;
    return $said{$text} if $said{$text};
    my $f = speak("$dir/say" . scalar(keys %said) . '.wav', $text, 160);
    return $said{$text} = [wav_pcm(slurp($f))];
}

sub caller_wav {
    my ($file, @parts) = @_;
    my ($rate, $pcm) = (undef, '');
    for my $p (@parts) {
        if ($p =~ /^\d+$/) {
            $pcm .= "\0\0" x int(($rate // 22050) * $p / 1000);
        } else {
            my $s = speech($p);
            $rate = $s->[0];
            $pcm .= $s->[1];
        }
    }
    spit($file, wav($rate // 22050, $pcm));
}

sub fresh { $fake->reset->transcripts(@_) }

sub call {
    my ($path, $wav, @opt) = @_;
    return $t->call($path, "--play $wav", @opt, '-v');
}

my $q1 = 'What are your opening hours?';
my $q2 = 'And on Sundays?';
caller_wav("$dir/two.wav", $q1, 2500, $q2, 500);

# barge-in: the caller speaks while the agent's reply plays

my $reply = 'Sure thing. We are open every single day of the week from nine '
    . 'in the morning until five in the evening. On weekends we open a '
    . 'little later. Anything else?';
fresh('What are your opening hours?', 'And on Sundays?')->replies($reply,
    'Closed on Sundays. Sorry about that.');
caller_wav("$dir/barge.wav", $q1, 1500, $q2, 500);

my ($rc, $out, $log) = call('/media/barge', "$dir/barge.wav",
    '--silence-after 5000');
is($rc, 0, 'barge-in call completes') or diag $out;
my ($clears) = $out =~ /(\d+) clears/;
cmp_ok($clears // 0, '>=', 1, 'clear sent');

my @llm = $fake->json_requests('llm');
is(scalar @llm, 2, 'a second turn after the interruption');
my $m = $llm[1]{messages} || [];
is($m->[1]{content}, $q1, 'history: first question');
is($m->[2]{role}, 'assistant', 'history: the reply');
my ($heard) = ($m->[2]{content} // '') =~ /^(.*) \[interrupted\]$/;
like($heard // '', qr/^Sure thing\. We /,
    'history keeps the first sentence and what was heard of the second');
ok(defined $heard && $reply =~ /^\Q$heard\E / && length $heard < 60,
    'cut at a word, marked as cut off, not the rest');
is($m->[3]{content}, $q2, 'history: the interruption is the next question');

# no audio of the first reply after the clear

my @tts = $fake->tts_texts;
my %first = map { FakeProvider::tag($_) => 1 } grep { !/Sunday/ }
    @tts[0 .. 3];
my ($after) = $log =~ /< \{"event":"clear".*?\n(.*)/s;
my $stale = 0;
for my $p (($after // '') =~ /"payload":"([^"]+)"/g) {
    my $bytes = decode_base64($p);
    $stale++ if grep { $first{ord $_} } split //, substr($bytes, 0, 1);
}
is($stale, 0, 'no audio of the interrupted reply after the clear');
ok(defined $after && $after =~ /"media"/, 'the next reply is heard');
like($t->error_log, qr/caller interrupted, 1 of \d+ sentences heard/,
    'interruption logged');

# a pause longer than voice_vad_silence while the first part is being
# transcribed: the caller went on, so it is one utterance, sent again

fresh('PART ONE', 'What are your opening hours?')->delay(stt => 1.5)
    ->replies('Nine to five.');
caller_wav("$dir/pause.wav", 'What are your', 900, 'opening hours?', 500);
($rc, $out) = call('/media/pause', "$dir/pause.wav", '--silence-after 3000');
is($rc, 0, 'pause call completes') or diag $out;
my @stt = $fake->requests('stt');
is(scalar @stt, 2, 'the utterance went to STT again when the caller went on');
my @pcm = map { substr($_, index($_, 'RIFF') + 44) } @stt;
my $probe = substr($pcm[0], 4000, 400);
ok(length($probe) == 400 && index($pcm[1], $probe) >= 0,
    'the second holds the first part\'s audio too');
@llm = $fake->json_requests('llm');
is(scalar @llm, 1, 'one question to the LLM');
is($llm[0]{messages}[-1]{content}, 'What are your opening hours?',
    'the whole utterance\'s transcript');
ok(!grep({ $_->{content} eq 'PART ONE' } @{ $llm[0]{messages} }),
    'the first part\'s transcript is not used');
like($t->error_log, qr/caller went on speaking, utterance continues/,
    'logged');

# provider failures: that turn is dropped, the next utterance works

sub failure {
    my ($name, $setup, $log_re) = @_;
    fresh($q1, $q2)->replies('Nine to five. Anything else?');
    $setup->();
    my ($rc, $out) = call("/media/$name", "$dir/two.wav",
        '--silence-after 3000');
    is($rc, 0, "$name: the call goes on to its end") or diag $out;
    like($t->error_log, $log_re, "$name: logged");
    my @tts = $fake->tts_texts;
    ok(grep({ $_ eq 'Nine to five.' } @tts), "$name: the next turn is spoken");
    like($out, qr/, [1-9]\d* media messages/, "$name: the caller hears it");
}

failure('stt-500', sub { $fake->fail(stt => 500) },
    qr/stt provider "\/_stt" failed with status 500, turn dropped/);
failure('stt-bad', sub { $fake->garbage('stt') },
    qr/stt provider "\/_stt" sent an invalid reply/);
failure('llm-503', sub { $fake->fail(llm => 503) },
    qr/llm provider "\/_llm" failed with status 503/);
failure('llm-cut', sub { $fake->garbage('llm') },
    qr/llm provider "\/_llm" stream ended without \[DONE\]/);
failure('tts-500', sub { $fake->fail(tts => 500) },
    qr/tts provider "\/_tts" failed with status 500, sentence 0 dropped/);

# a provider that never answers: proxy_read_timeout, then the next works

fresh($q1, $q2)->replies('Nine to five. Anything else?')->hang_once('llm');
($rc, $out) = call('/media/timeout', "$dir/two.wav", '--silence-after 3000');
is($rc, 0, 'llm timeout: the call goes on');
like($t->error_log, qr/llm provider "\/_llm" failed with status 504/,
    'llm timeout: logged with 504');
ok(grep({ $_ eq 'Nine to five.' } $fake->tts_texts),
    'llm timeout: the next turn is spoken');

# connection refused

fresh($q1);
($rc, $out) = call('/refused/x', "$dir/two.wav", '--silence-after 1000');
is($rc, 0, 'connection refused: the call goes on');
like($t->error_log, qr/stt provider "\/_refused" failed with status 502/,
    'connection refused: logged with 502');

# the caller hangs up mid-STT, mid-LLM, mid-TTS: nothing left running

caller_wav("$dir/one.wav", $q1, 700);
for my $stage (qw(stt llm tts)) {
    fresh($q1)->hang($stage);
    ($rc, $out) = call("/media/hangup-$stage", "$dir/one.wav",
        '--fast --drain-ms 600 --silence-after 700');
    is($rc, 0, "hang-up mid-$stage: call ends");
    ok($fake->closed($stage),
        "hang-up mid-$stage: the provider connection was closed");
}

# greeting first, interrupted by a key before any of it played; the key
# reaches the LLM as text

fresh($q1)->replies('You pressed five.');
caller_wav("$dir/quiet.wav", 300);
($rc, $out) = call('/greet/x', "$dir/quiet.wav",
    '--fast --drain-ms 1500 --silence-after 300 --dtmf 5');
is($rc, 0, 'greeting call completes') or diag $out;
my @says = map { /agent says "(.*?)"/ } grep { m{GET /greet/x} }
    split /\n/, $t->error_log;
is_deeply(\@says, ['Hello!', 'How can I help?', 'You pressed five.'],
    'greeting said first, all of it, then the answer');
is(($fake->tts_texts)[-1], 'You pressed five.', 'the answer is spoken');
@llm = $fake->json_requests('llm');
is($llm[0]{messages}[1]{content}, '[caller pressed 5]',
    'the greeting unheard is not in the history');
is($llm[0]{messages}[-1]{content}, '[caller pressed 5]', 'DTMF as text');

$t->stop;

done_testing;
