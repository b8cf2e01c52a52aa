#!/usr/bin/perl

# The agent pipelines: the first TTS request leaves before the LLM's
# reply ends, the first audio reaches the caller before the TTS reply
# ends, and sentences play in the order of the reply whichever TTS
# answer comes first.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(slurp);
use VoiceAudio qw(ulaw_linear pcm16 speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

$t->run_agent($fake, <<'CONF');
        location /media/ {
            voice_media_stream;
        }
CONF

speak("$dir/q.wav", 'What are your opening hours?', 160);
my $call = "--play $dir/q.wav --silence-after 1500 --fast --drain-ms 3000";

sub fresh {
    $fake->reset->transcripts('What are your opening hours?')->replies(@_);
}

# pipelining: the fake LLM holds [DONE] back until the first TTS request
# came; the fake TTS holds the second half of its audio back until the
# caller has heard the first

fresh('Sure. We open at nine and close at five.')->llm_waits_for_tts
    ->tts_waits_for_media("$dir/sim.log");

my ($rc, $out) = $t->call('/media/s', $call, '-v');
is($rc, 0, 'pipelined call completes') or diag $out;
ok($fake->llm_saw_tts,
    'the first TTS request left before the LLM\'s reply ended');
ok($fake->tts_saw_media,
    'the caller heard audio before the TTS reply ended');
my @tts = $fake->tts_texts;
is_deeply(\@tts, ['Sure.', 'We open at nine and close at five.'],
    'each sentence to TTS');

# sentences play in order although the second's audio came first

fresh('Sure. We open at nine. Goodbye.')->tts_out_of_order;
($rc, $out) = $t->call('/media/o', $call, "--record-raw $dir/heard.raw");
is($rc, 0, 'out-of-order call completes') or diag $out;
ok($fake->tts_overtaken, 'a later sentence\'s TTS finished first');

my @heard = pcm16(slurp("$dir/heard.raw"));
my @runs;
for my $v (@heard) {
    if (@runs && $runs[-1][0] == $v) { $runs[-1][1]++ } else { push @runs, [$v, 1] }
}
my @want = map { [ulaw_linear(FakeProvider::tag($_)), 160 * length $_] }
    'Sure.', 'We open at nine.', 'Goodbye.';
is_deeply(\@runs, \@want, 'each sentence whole, in the order of the reply');

$t->stop;

done_testing;
