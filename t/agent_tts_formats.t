#!/usr/bin/perl

# Every TTS format the agent converts (PCM at other rates, WAV, the
# OpenAI dialect) reaches the caller at the right pitch, level and length.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(slurp);
use VoiceAudio qw(pcm16 speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

$t->run_agent($fake, <<'CONF');
        location /pcm16/ {
            voice_media_stream;
            voice_tts_format pcm_16000;
        }

        location /wav/ {
            voice_media_stream;
            voice_tts_format wav;
        }

        location /openai/ {
            voice_media_stream;
            voice_tts_dialect openai;
            voice_tts_model tts-1;
            voice_tts_voice alloy;
            voice_tts_format pcm_24000;
        }
CONF

my $q = 'What are your opening hours?';
speak("$dir/q.wav", $q, 160);

# each format: a 1 kHz sine from TTS at another rate reaches the caller as
# 1 kHz at 8 kHz, at the same level, 20 ms of audio per character

sub analyse {
    my ($pcm) = @_;
    my @s = pcm16($pcm);
    # the middle of the audio: no edges of sentences
    my $n = @s;
    my @m = @s[int($n * 0.1) .. int($n * 0.4)];
    my ($cross, $sum) = (0, 0);
    for my $i (1 .. $#m) {
        $cross++ if ($m[$i - 1] < 0) != ($m[$i] < 0);
        $sum += $m[$i] ** 2;
    }
    my $secs = @m / 8000;
    return ($n, $cross / 2 / $secs, sqrt($sum / @m));
}

my $text = 'We are open from nine to five. Anything else?';
my $chars = 0;
$chars += length for 'We are open from nine to five.', 'Anything else?';

for my $case (['pcm16', tts_pcm => 16000], ['wav', tts_wav => 22050],
    ['openai', tts_pcm => 24000])
{
    my ($loc, $answer, $rate) = @$case;
    $fake->reset->transcripts($q)->replies($text)->$answer($rate);

    my ($rc, $out) = $t->call("/$loc/x", "--play $dir/q.wav",
        '--silence-after 1500 --fast --drain-ms 3000',
        "--record-raw $dir/heard.raw");
    is($rc, 0, "$loc: call completes") or diag $out;

    my ($n, $freq, $rms) = analyse(slurp("$dir/heard.raw"));
    my $want = 160 * $chars;
    cmp_ok(abs($n - $want), '<=', 2 * 160, "$loc: length $n of $want samples");
    cmp_ok(abs($freq - 1000), '<', 20, "$loc: 1 kHz stays 1 kHz ($freq)");
    my $db = 20 * log($rms / (8000 / sqrt 2)) / log 10;
    cmp_ok(abs($db), '<', 0.5, "$loc: level kept ($db dB)");
}

my ($oa) = $fake->json_requests('tts');
is_deeply($oa, { model => 'tts-1', input => 'We are open from nine to five.',
    voice => 'alloy', response_format => 'pcm' }, 'OpenAI speech request');

$t->stop;

done_testing;
