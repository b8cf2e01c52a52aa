#!/usr/bin/perl

# Every TTS format the agent converts (PCM at other rates, WAV, the
# OpenAI dialect) reaches the caller at the right pitch, level and length;
# and a WAV reply whose first piece ends in its audio loses none of it.

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

        location /wav8k/ {
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

# A WAV reply whose first piece holds the header and some of the audio
# (proxy_buffering is off at /_tts: the module gets each read as it
# comes): the caller hears every sample, sample for sample, none out of
# the source's range.  At 8 kHz nothing is resampled: the 8,000 samples
# of a 50-character sentence (20 ms a character) reach the caller as
# 8,000 μ-law samples, each within μ-law's step of the sine's.  An odd
# number of audio bytes in the first piece would shift every later
# sample by a byte: noise far beyond the sine's 8,000.

my $sentence = 'We are open from nine in the morning to six today.';
my @source = map { int(8000 * sin(2 * 3.14159265358979 * 1000 * $_ / 8000)) }
    0 .. 160 * length($sentence) - 1;

for my $first (44, 600, 3000, 3001) {
    $fake->reset->transcripts($q)->replies($sentence)->tts_wav(8000)
        ->tts_first_write($first);

    my ($rc, $out) = $t->call("/wav8k/x", "--play $dir/q.wav",
        '--silence-after 1500 --fast --drain-ms 3000',
        "--record-raw $dir/heard.raw");
    is($rc, 0, "first write $first: call completes") or diag $out;

    my @heard = pcm16(slurp("$dir/heard.raw"));
    is(scalar @heard, scalar @source,
        "first write $first: every sample heard");
    my $out_of_range = grep { abs($_) > 8000 + 256 } @heard;
    is($out_of_range, 0, "first write $first: none out of the source's range");
    my @off = grep {
        abs($heard[$_] - $source[$_]) > abs($source[$_]) / 16 + 32
    } 0 .. $#source;
    is(scalar @off, 0, "first write $first: each sample the source's")
        or diag "first at $off[0]: heard $heard[$off[0]],"
            . " sent $source[$off[0]]";
}

$t->stop;

done_testing;
