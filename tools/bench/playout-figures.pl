#!/usr/bin/perl

# The playout's figures (docs/BENCHMARKS.md): stale frames after a clear,
# underruns over a 10-turn call, and how far the heard text is off, in
# words, over interruptions at several points of a 3 s sentence.
#
#   VOICE_MODULE=build/ngx_http_voice_module.so VOICE_SIM=build/voice-sim \
#       perl tools/bench/playout-figures.pl
#
# nginx runs the agent against the tests' fake providers (t/lib): TTS
# audio is 20 ms a character, each sentence's bytes its own tag, so the
# simulator's recording tells whose audio played when.  The simulator
# plays Twilio in real time: it plays what it gets at 8000 samples a
# second, returns marks when playback reaches them, empties its buffer on
# a clear.
#
# - Stale frames: media messages of the interrupted reply that arrive
#   after the clear (the simulator's -v log), over every interruption.
# - Underruns: the module's count (its "reply of N sentences played, U
#   underruns" lines), and the caller's: runs of silence in what the
#   simulator played that are shorter than 400 ms and have the agent's
#   audio on both sides, i.e. inside a reply.
# - Heard-text error: for each interruption, the words the history kept
#   of the sentence against the words the played audio says were heard
#   (the samples of its tag before the clear, as a share of its
#   characters, cut at the nearest word end).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../../t/lib";
use Test::More;
use VoiceTest qw(slurp);
use VoiceAudio qw(ulaw_linear pcm16);
use MIME::Base64 qw(decode_base64);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

$t->run_agent($fake, <<'CONF');
        location /media/ {
            voice_media_stream agent;
        }
CONF

my $long = 'We are open every single day of the week from nine in the '
    . 'morning until five in the evening, and on public holidays we open a '
    . 'little later than usual.';

sub words_near {
    my ($text, $at) = @_;
    my ($best, $bd, $n) = (0, $at, 0);
    while ($text =~ /\S+/g) {
        $n++;
        my $d = abs(pos($text) - $at);
        ($best, $bd) = ($n, $d) if $d < $bd;
    }
    return $best;
}

sub stale {
    my ($log, @texts) = @_;
    my %tags = map { FakeProvider::tag($_) => 1 } @texts;
    my ($after) = $log =~ /< \{"event":"clear".*?\n(.*)/s;
    return scalar grep { $tags{ord substr(decode_base64($_), 0, 1)} }
        ($after // '') =~ /"payload":"([^"]+)"/g;
}

# interruptions at several points of the 3 s sentence

my (@err, $stale, $n);
for my $ms (600, 900, 1200, 1500, 1800, 2100, 2400) {
    $fake->reset->transcripts('What are your opening hours?',
        'Wait, and on Sundays?')->replies($long, 'Closed on Sundays.');
    my ($rc, $out, $log) = $t->call("/media/cut$ms",
        "--say 'What are your opening hours?' --interrupt $ms",
        "--say 'Wait, and on Sundays?' --record-raw $dir/cut.raw -v");
    is($rc, 0, "interrupted at $ms ms: the call completes") or diag $out;
    my @llm = $fake->json_requests('llm');
    my ($heard) = map { $_->{content} } grep { $_->{role} eq 'assistant' }
        @{ $llm[1]{messages} || [] };
    my ($part) = ($heard // '') =~ /^(.*) \[interrupted\]$/;
    my $words = () = ($part // '') =~ /\S+/g;
    my $tag = ulaw_linear(FakeProvider::tag($long));
    my $played = grep { $_ == $tag } pcm16(slurp("$dir/cut.raw"));
    my $want = words_near($long, $played / 160);
    push @err, abs($words - $want);
    $stale += stale($log, $long);
    $n++;
    note(sprintf '%4d ms: played %4d ms of 3000, heard %2d words, '
        . 'the audio says %2d', $ms, $played / 8, $words, $want);
}

# a 10-turn call, no interruptions

my @q = map { "Question number $_, please?" } 1 .. 10;
my @a = map { "Our shop opens at nine every morning, day $_. It closes at "
    . "five in the evening. Anything else?" } 1 .. 10;
$fake->reset->transcripts(@q)->replies(@a);
my $before = length $t->error_log;
my ($rc, $out, $log) = $t->call('/media/ten',
    join(' ', map { "--say '$_'" } @q), "--record $dir/ten.wav");
is($rc, 0, 'the 10-turn call completes') or diag $out;
my @lines = substr($t->error_log, $before)
    =~ /reply of \d+ sentences played, (\d+) underruns/g;
my $module = 0;
$module += $_ for @lines;
my @heard = pcm16(substr(slurp("$dir/ten.wav"), 44));
my ($gaps, $run, $seen) = (0, 0, 0);
for my $i (0 .. int(@heard / 160) - 1) {
    my $quiet = !grep { $_ } @heard[$i * 160 .. $i * 160 + 159];
    if ($quiet) {
        $run++;
        next;
    }
    $gaps++ if $seen && $run && $run < 20;
    ($run, $seen) = (0, 1);
}

my $sum = 0;
$sum += $_ for @err;

diag('machine: ' . `nproc` =~ s/\s+$//r . ' cores, '
    . ((`grep -m1 'model name' /proc/cpuinfo` =~ /:\s*(.*)/)[0] // '?'));
diag("stale frames after a clear: $stale, over $n interruptions");
diag(sprintf 'underruns over 10 turns: %d by the module (%d replies), '
    . '%d gaps heard by the caller', $module, scalar @lines, $gaps);
diag(sprintf 'heard-text error: %.2f words on average, %d at most, '
    . 'over %d interruptions', $sum / @err, (sort { $b <=> $a } @err)[0],
    scalar @err);

$t->stop;

done_testing;
