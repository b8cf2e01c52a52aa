#!/usr/bin/perl

# make demo, shortened: the offline providers, nginx and a spoken call
# with an interruption, an order looked up by a tool and a goodbye that
# ends the call.  The turns happen, and the agent's channel of the
# recorded call holds speech where the call's report says the agent
# answered.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use VoiceTest qw(slurp);
use VoiceLog qw(log_is_clean);
use VoiceAudio qw(pcm16);

my $providers = $ENV{VOICE_PROVIDERS}
    or plan skip_all => 'VOICE_PROVIDERS is not set';
my $sim = $ENV{VOICE_SIM} or die "VOICE_SIM is not set\n";
my $module = $ENV{VOICE_MODULE} or die "VOICE_MODULE is not set\n";
my $nginx = $ENV{NGINX_BIN} || '/usr/sbin/nginx';

my $dir = tempdir('voice-demo-XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{VOICE_KEEP});
chmod 0755, $dir;

# nginx with the sanitizer runtimes, when the module was built with them
my $wrap = "$dir/nginx";
open my $fh, '>', $wrap or die $!;
print $fh "#!/bin/sh\n";
print $fh "export LD_PRELOAD='$ENV{VOICE_PRELOAD}'"
    . " ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0\n"
    if $ENV{VOICE_PRELOAD};
print $fh "exec $nginx \"\$\@\"\n";
close $fh;
chmod 0755, $wrap;

my $out = `DEMO_SHORT=1 DEMO_PREFIX=$dir/demo NGINX_BIN=$wrap sh $FindBin::Bin/../tools/demo.sh $module $sim $providers 2>&1`;
is($?, 0, 'the demo exits 0') or diag $out;
note $out;

my $report = eval { decode_json(slurp("$dir/demo/report.json")) } || {};
my $call = $report->{calls}[0] || {};
ok($call->{ok}, 'the call completed');
my @turns = @{ $call->{turns} || [] };
is(scalar @turns, 5, 'the caller said five things');
is(scalar(grep { $_->{reply_after_ms} >= 0 } @turns), 5,
    'the agent answered each');
is($call->{clears}, 1, 'the interruption cleared the agent\'s audio');

my $log = slurp("$dir/demo/logs/error.log");
is(() = $log =~ /voice: caller said "/g, 5, 'five transcripts');
like($log, qr/voice: caller interrupted, \d+ of \d+ sentences heard/,
    'the interruption');
like($out, qr/^\s+1\s+500 ms\s+\d+ ms/m, 'a latency table');

# the offline providers understood the caller and answered each question
like($log, qr/caller said "what are your opening hours"/, 'question 1 heard');
like($log, qr/agent says "Our opening hours are/, 'question 1 answered');
like($log, qr/agent says "We deliver within/, 'question 2 answered');
like($log, qr/agent says "Most of our items cost/,
    'the interrupting question answered');

# the agent acts: the order looked up by the tool's location, and the
# call ended by the agent after the goodbye was heard
like($log, qr/caller said "where is my order number one two three four"/,
    'the order question heard');
like($log, qr/the model calls "check_order" .*\n.*tool "check_order" answered/,
    'check_order called, and its location answered');
like($log, qr/agent says "Order 1234 is on its way, and arrives tomorrow\."/,
    'the answer is the tool\'s result');
like($log, qr/agent says "Goodbye!".*the model calls "end_call".*reply of \d+ sentences played.*closing the stream: call ended by the agent/s,
    'end_call: the stream closes once the goodbye was played');
unlike($log, qr/voice: call "[^"]*" stopped/,
    'the agent ended the call, not the caller');
is($call->{close}, 1000, 'with 1000');

# the agent's channel: speech where the report says it answered, and
# none (but line silence) before the first greeting

my $wav = slurp("$dir/demo/call.wav");
is(substr($wav, 0, 4), 'RIFF', 'the call as a WAV file');
is(unpack('v', substr($wav, 22, 2)), 2, 'stereo');
my @s = pcm16(substr($wav, 44));

sub rms {
    my ($ch, $from_ms, $ms) = @_;
    my ($sum, $n) = (0, 0);
    for my $i (int($from_ms * 8) .. int(($from_ms + $ms) * 8) - 1) {
        my $v = $s[2 * $i + $ch] // last;
        $sum += $v * $v;
        $n++;
    }
    return $n ? sqrt($sum / $n) : 0;
}

my $k = 0;
for my $t (@turns) {
    $k++;
    my $said_end = $t->{said_at_ms} + $t->{said_ms};
    cmp_ok(rms(0, $t->{said_at_ms}, $t->{said_ms}), '>', 300,
        "turn $k: the caller's channel has speech while the caller spoke");
    cmp_ok(rms(1, $said_end + $t->{reply_after_ms}, 600), '>', 300,
        "turn $k: the agent's channel has speech when it answered");
}

my $first = $turns[0]{said_at_ms} + $turns[0]{said_ms}
    + $turns[0]{reply_after_ms};
cmp_ok(rms(1, $first - 700, 400), '<', 50,
    'the agent is silent just before answering the first question');

# nginx has stopped when demo.sh returns: its log is whole
log_is_clean($log, 'error.log is clean');
log_is_clean(slurp("$dir/demo/logs/providers.log"), 'providers.log is clean');
log_is_clean($out, 'the demo\'s output is clean');

done_testing;
