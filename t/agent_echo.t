#!/usr/bin/perl

# Barge-in over the line's echo of the agent: the caller's line carries
# the agent's own voice back, 20 dB down and 60 or 250 ms late, through
# a greeting of about 10 s.  The echo alone never interrupts; the caller
# speaking over it does, while they speak.  With
# voice_barge_in_echo_margin off (the fixed margin of old), the echo
# alone interrupts the agent.

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

my $greeting = 'Thank you for calling the Riverside clinic, this is the '
    . 'automated assistant. We are open from nine in the morning until '
    . 'five in the evening, every day except Sunday.';

$t->run_agent($fake, <<"CONF");
        voice_tts_format wav;

        location /greet/ {
            voice_media_stream agent;
            voice_greeting "$greeting";
        }

        location /greet-fixed/ {
            voice_media_stream agent;
            voice_greeting "$greeting";
            voice_barge_in_echo_margin off;
        }
CONF

# the caller's line: its own faint noise, and speech where asked

my $rate = 22050;

sub line_noise {
    my ($ms) = @_;
    return pack 's<*', map { int(rand(25)) - 12 } 1 .. int($rate * $ms / 1000);
}

my ($srate, $speech) = wav_pcm(slurp(speak("$dir/over.wav",
    'Sorry, can I ask you something else?', 160)));
$srate == $rate or die "espeak-ng speaks at $srate Hz, not $rate\n";
my $speech_ms = int(length($speech) / 2 / $rate * 1000);

spit("$dir/quiet.wav", wav($rate, line_noise(11000)));
spit("$dir/barge.wav", wav($rate, line_noise(3000) . $speech
    . line_noise(2000)));

sub fresh { $fake->reset->tts_speech }

sub call {
    my ($path, $wav, $delay) = @_;
    my ($rc, $out, $log) = $t->call($path, "--play $wav",
        '--silence-after 1000', '--echo-db -20',
        "--echo-delay-ms $delay", '-v');
    is($rc, 0, "call on $path with echo $delay ms late completes")
        or diag $out;
    return ($out, $log);
}

for my $delay (60, 250) {

    # only the echo comes back through the greeting: no clear

    fresh();
    my ($out, $log) = call('/greet/', "$dir/quiet.wav", $delay);
    my ($clears) = $out =~ /(\d+) clears/;
    my ($heard) = $out =~ /(\d+) bytes of audio heard/;
    cmp_ok($heard // 0, '>', 8 * 8000, "echo $delay ms: 8 s of greeting");
    is($clears, 0, "echo $delay ms late alone: no clear");
    unlike($log, qr/"event":"clear"/, "echo $delay ms: no clear message");

    # the caller speaks over it 3 s in: a clear while they speak

    fresh();
    ($out, $log) = call('/greet/', "$dir/barge.wav", $delay);
    my ($at, $after) = $log =~
        /clear at ([\d.]+) s, (\d+) ms after the caller's voice/;
    ok(defined $after, "echo $delay ms, the caller over it: a clear")
        or diag $log;
    cmp_ok($after // 1e9, '<', $speech_ms,
        "echo $delay ms: the clear came while the caller spoke");
    diag("echo $delay ms late: clear ${\ ($after // '?')} ms after the "
        . "caller's voice began");
}

like($t->error_log, qr/caller interrupted, \d+ of \d+ sentences heard/,
    'the interruptions logged');

# the fixed margin: the echo of the agent's own voice interrupts it

fresh();
my ($out) = call('/greet-fixed/', "$dir/quiet.wav", 60);
my ($clears) = $out =~ /(\d+) clears/;
cmp_ok($clears // 0, '>=', 1,
    'voice_barge_in_echo_margin off: the echo alone interrupts');

$t->stop;
done_testing();
