#!/usr/bin/perl

# The media stream when things go wrong around it: a caller that stops
# reading while the agent speaks is cut off from outside nginx's handlers,
# and the other calls on the worker go on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(slurp);
use VoiceAudio qw(speak);
use VoiceWS;
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

$t->run_agent($fake, <<'CONF');
        location /media/ {
            voice_media_stream agent;
        }

        location /stall/ {
            voice_media_stream agent;
            voice_max_pending 16k;
        }
CONF

my $port = $t->port;

speak("$dir/q.wav", 'What are your opening hours?', 160);

# 20 ms of μ-law: silence, and a 1 kHz square wave loud enough for the
# endpointer
my $quiet = "\xff" x 160;
my $tone = "\xa0\xa0\xa0\xa0\x20\x20\x20\x20" x 20;

# A caller that says something, then never reads: a receive buffer of
# 4 KB that fills at once.
sub stalled_caller {
    my ($path, $call) = @_;
    my $c = VoiceWS->connect(port => $port, path => $path, rcvbuf => 4096);
    $c->begin(call => $call);
    my @audio = (($quiet) x 15, ($tone) x 40, ($quiet) x 60);
    $c->send_json(VoiceWS::media_msg($audio[$_], $_ + 1)) for 0 .. $#audio;
    return $c;
}

sub wait_log {
    my ($re) = @_;
    for (1 .. 150) {
        return 1 if $t->error_log =~ $re;
        select undef, undef, undef, 0.1;
    }
    return 0;
}

# a caller that stops reading while a long reply streams from TTS
# (proxy_buffering off): the queue passes voice_max_pending inside the
# TTS response's body filter, and the call ends after nginx is out of it

$fake->reset->tts_long(60)->replies('Let me tell you all about it.',
    'Nine to five.');

my $stall = stalled_caller('/stall/a', 'CAstalled');
ok(FakeProvider::wait_for("$dir/fake/*-tts.body"),
    'the long reply goes to TTS');

my ($rc, $out, $err) = $t->call('/media/other',
    "--play $dir/q.wav --silence-after 1500 --fast --drain-ms 2000");
is($rc, 0, 'another call on the worker completes meanwhile')
    or diag $out, $err;
like($out, qr/, [1-9]\d* media messages/, 'and hears its answer');

ok(wait_log(qr/peer is not reading, \d+ bytes pending \(voice_max_pending 16384\), closing/),
    'the stalled call is closed with an info line naming why');
ok($stall->eof_within(10), 'its connection is closed');

$t->stop;

done_testing;
