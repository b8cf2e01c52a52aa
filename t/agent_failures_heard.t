#!/usr/bin/perl

# A provider failure is heard, not silent: voice_apology through the TTS
# location when STT or the LLM fails, voice_apology_audio when TTS itself
# does; voice_max_call_duration ends an overlong call with a goodbye whose
# mark comes back before the stream closes with 1000.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(slurp spit);
use VoiceAudio qw(wav wav_pcm speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

# the apology audio: one second of a μ-law byte no fake TTS sentence makes
my $sorry = chr(0x2a);
spit("$dir/sorry.ulaw", $sorry x 8000);

# and as a WAV file, 16 kHz
spit("$dir/sorry.wav", wav(16000, pack('s<*', (3000) x 16000)));

$t->run_agent($fake, <<"CONF");
        location /media/ {
            voice_media_stream agent;
            voice_apology_audio $dir/sorry.ulaw;
        }

        location /quiet/ {
            voice_media_stream agent;
            voice_apology off;
        }

        location /short/ {
            voice_media_stream agent;
            voice_max_call_duration 4s;
            voice_goodbye "Time is up. Goodbye!";
        }

        location /wav/ {
            voice_media_stream agent;
            voice_apology_audio $dir/sorry.wav;
        }
CONF

my $q1 = 'What are your opening hours?';
my $f = speak("$dir/q1.wav", $q1, 160);
my ($rate, $pcm) = wav_pcm(slurp($f));
spit("$dir/one.wav", wav($rate, $pcm . "\0\0" x int($rate * 0.7)));
my $apology = 'Sorry, I am having trouble right now. Could you say that again?';

sub heard {
    my ($raw) = @_;
    my $sorry_pcm = VoiceAudio::ulaw_linear(0x2a);
    my @s = unpack 's<*', slurp($raw) // '';
    return (scalar(grep { $_ == $sorry_pcm } @s), scalar @s);
}

sub call {
    my ($path, @opt) = @_;
    my ($rc, $out, $log) = $t->call($path, "--play $dir/one.wav",
        '--silence-after 2500', @opt, '-v');
    return ($rc, $out, $log // '');
}

for my $case (['stt', 500], ['llm', 503]) {
    my ($what, $status) = @$case;
    $fake->reset->transcripts($q1)->replies('Nine to five.');
    $fake->fail($what => $status);
    my ($rc, $out) = call("/media/$what");
    is($rc, 0, "$what $status: the call goes on") or diag $out;
    is(join(' ', $fake->tts_texts), $apology,
        "$what $status: the caller hears the apology");
    like($out, qr/, [1-9]\d* media messages/, "$what $status: as audio");
}

$fake->reset->transcripts($q1)->replies('Nine to five.');
$fake->fail(stt => 500);
my ($rc, $out) = call('/quiet/x');
is($rc, 0, 'voice_apology off: the call goes on');
is(scalar $fake->tts_texts, 0, 'voice_apology off: nothing is said');

# TTS fails: the apology audio plays in place of the sentence

$fake->reset->transcripts($q1)->replies('Nine to five.');
$fake->fail(tts => 500);
($rc, $out, my $log) = call('/media/tts', "--record-raw $dir/tts.raw");
is($rc, 0, 'tts 500: the call goes on') or diag $out;
is((heard("$dir/tts.raw"))[0], 8000,
    'tts 500: the apology audio is heard, all of it');
like($t->error_log, qr/"voice_apology_audio" plays instead/, 'and logged');

$fake->reset->transcripts($q1)->replies('Nine to five.');
$fake->fail(tts => 500);
($rc, $out, $log) = call('/wav/tts', "--record-raw $dir/wav.raw");
my ($n, $all) = heard("$dir/wav.raw");
cmp_ok($all, '>=', 8000 - 160, 'a 16 kHz WAV apology: one second of audio')
    or diag $all;
cmp_ok($all, '<=', 8000 + 160, 'no more') or diag $all;

# a call longer than voice_max_call_duration

$fake->reset->transcripts($q1)->replies('Nine to five.');
($rc, $out, $log) = $t->call('/short/x', "--play $dir/one.wav",
    '--silence-after 12000', '-v');
like($out, qr/close 1000/, 'the overlong call closes with 1000') or diag $out;
my @tts = $fake->tts_texts;
is_deeply([@tts[-2, -1]], ['Time is up.', 'Goodbye!'], 'after a goodbye');
like($t->error_log, qr/reached voice_max_call_duration \(4000 ms\)/,
    'logged');
my @from = grep { /^\S* ?< / } split /\n/, $log;
my ($name) = ($from[-1] // '') =~ /"event":"mark".*"name":"([^"]+)"/;
ok(defined $name, 'the last message before the close is the goodbye\'s mark')
    or diag $from[-1];
like($log, qr/> \{"event":"mark".*"name":"\Q$name\E"/,
    'and it came back') if defined $name;

$t->stop;

# voice_apology_audio is checked at load

my $c = VoiceTest->new;
spit($c->prefix . '/junk.wav', 'RIFF' . pack('V', 36) . 'WAVEfmt '
    . pack('VvvVVvv', 16, 1, 2, 8000, 32000, 4, 16) . 'data' . pack('V', 0));
spit($c->prefix . '/empty.ulaw', '');
for my $case (['missing.ulaw', qr/open\(\) ".*missing.ulaw" failed/],
    ['empty.ulaw', qr/cannot be read, or is empty/],
    ['junk.wav', qr/is neither .* nor a WAV file of PCM16 mono/])
{
    my ($file, $re) = @$case;
    $c->write_conf(<<"CONF");
    server {
        listen 127.0.0.1:%%PORT%%;
        location /media/ {
            voice_media_stream agent;
            voice_llm /x;
            voice_tts /y;
            voice_apology_audio %%PREFIX%%/$file;
        }
    }
CONF
    my ($rc, $err) = $c->conf_test;
    isnt($rc, 0, "voice_apology_audio $file: nginx -t fails");
    like($err, $re, "voice_apology_audio $file: says why") or diag $err;
    unlike($err, qr/AddressSanitizer|LeakSanitizer|runtime error|\[alert\]/,
        "voice_apology_audio $file: nothing else");
}

done_testing;
