#!/usr/bin/perl

# What interrupts the agent and what does not: a short sound during a
# reply is not an interruption (voice_barge_in_min_speech), and a greeting
# that must be heard is not interrupted (voice_greeting_interruptible off).
# Each against a location that shows the old behaviour.

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

my $greeting = 'This call may be recorded for quality and training purposes. '
    . 'By staying on the line you agree to that. How can I help you today?';

$t->run_agent($fake, <<"CONF");
        voice_vad_min_speech 100ms;

        location /cough/ {
            voice_media_stream agent;
            voice_barge_in_min_speech 300ms;
        }

        location /cough-counts/ {
            voice_media_stream agent;
            voice_barge_in_min_speech 100ms;
        }

        location /disclosure/ {
            voice_media_stream agent;
            voice_vad_min_speech 200ms;
            voice_greeting "$greeting";
            voice_greeting_interruptible off;
        }

        location /greeting/ {
            voice_media_stream agent;
            voice_vad_min_speech 200ms;
            voice_greeting "$greeting";
        }
CONF

# caller audio at espeak-ng's rate: phrases, silences (ms), noise ("~ms")

my $rate;
my %said;
sub caller_wav {
    my ($file, @parts) = @_;
    my $pcm = '';
    for my $p (@parts) {
        if ($p =~ /^\d+$/) {
            $pcm .= "\0\0" x int($rate * $p / 1000);
        } elsif ($p =~ /^~(\d+)$/) {
            srand(7);
            $pcm .= pack 's<*', map { int((rand() * 2 - 1) * 16000) }
                1 .. int($rate * $1 / 1000);
        } else {
            $said{$p} //= do {
                my $f = speak("$dir/say" . scalar(keys %said) . '.wav', $p,
                    160);
                my ($r, $s) = wav_pcm(slurp($f));
                $rate = $r;
                $s;
            };
            $pcm .= $said{$p};
        }
    }
    spit($file, wav($rate, $pcm));
}

sub call {
    my ($path, $wav) = @_;
    my ($rc, $out, $log) = $t->call($path, "--play $wav", '-v');
    my ($clears) = $out =~ /(\d+) clears/;
    return ($rc, $clears // 0, $out);
}

my $q1 = 'What are your opening hours?';
my $q2 = 'And on Sundays?';
my $long = 'Sure thing. We are open every single day of the week from nine '
    . 'in the morning until five in the evening, and a little later on '
    . 'weekends. Anything else?';


# a 150 ms cough 1.5 s into a 3 s reply

caller_wav("$dir/cough.wav", $q1, 1500, '~150', 5000);

$fake->reset->transcripts($q1)->replies($long);
my ($rc, $clears, $out) = call('/cough/x', "$dir/cough.wav");
is($rc, 0, 'cough call completes') or diag $out;
is($clears, 0, 'a 150 ms cough does not interrupt the reply');
is(scalar $fake->requests('stt'), 1, 'nor is it an utterance');
like($t->error_log, qr/reply of \d+ sentences played/,
    'the reply is played to its end');

$fake->reset->transcripts($q1, '')->replies($long);
($rc, $clears, $out) = call('/cough-counts/x', "$dir/cough.wav");
is($rc, 0, 'cough call with a low barge-in minimum completes') or diag $out;
cmp_ok($clears, '>=', 1,
    'with voice_barge_in_min_speech 100ms the same cough interrupts');

# speech during a greeting that must be heard

caller_wav("$dir/greet.wav", 700, $q1, 6000, $q2, 1500);

$fake->reset->transcripts($q2)->replies('Closed on Sundays.');
($rc, $clears, $out) = call('/disclosure/x', "$dir/greet.wav");
is($rc, 0, 'disclosure call completes') or diag $out;
is($clears, 0, 'the greeting is not interrupted');
my @tts = $fake->tts_texts;
is(join(' ', @tts[0 .. 2]), $greeting, 'all of it is said');
my @stt = $fake->requests('stt');
is(scalar @stt, 1, 'speech over the greeting is not an utterance');
my @llm = $fake->json_requests('llm');
is(scalar @llm, 1, 'one turn');
is($llm[0]{messages}[-1]{content}, $q2, 'the question after the greeting');

$fake->reset->transcripts($q1, $q2)->replies('Nine to five.', 'Closed.');
($rc, $clears, $out) = call('/greeting/x', "$dir/greet.wav");
is($rc, 0, 'greeting call completes') or diag $out;
cmp_ok($clears, '>=', 1, 'an interruptible greeting is interrupted');

$t->stop;

done_testing;
