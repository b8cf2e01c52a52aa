#!/usr/bin/perl

# voice_status: a run with a known number of calls, turns, barge-ins and
# provider failures over two workers; the scrape's counts are exact and
# add up across the workers, each histogram's +Inf bucket equals its
# count, and a reload keeps them. The per-call variables for access_log
# give the same figures per call.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(slurp spit);
use VoiceAudio qw(wav wav_pcm speak);
use FakeProvider;

my $t = VoiceTest->new(workers => 2);
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

my $conf = <<"CONF";
        location = /status {
            voice_status;
        }

        location /echo/ {
            voice_media_stream echo;
            access_log $dir/logs/calls.log calls;
        }

        location /media/ {
            voice_media_stream agent;
            access_log $dir/logs/calls.log calls;
        }
CONF

my $http = <<'HTTP';
    log_format calls 'call=$voice_call_sid turns=$voice_turns '
                     'barge_ins=$voice_barge_ins '
                     'failures=$voice_provider_failures '
                     'close=$voice_close_code peer_close=$voice_peer_close_code '
                     'media_in=$voice_media_in media_out=$voice_media_out '
                     'marks_out=$voice_marks_out marks_in=$voice_marks_in '
                     'duration=$voice_call_duration';
HTTP

# reuseport: the kernel spreads the calls over both workers
$t->run_agent($fake, $conf, http => $http);
my $port = $t->port;
my $text = slurp("$dir/nginx.conf");
$text =~ s/listen 127\.0\.0\.1:(\d+);/listen 127.0.0.1:$1 reuseport;/;
spit("$dir/nginx.conf", $text);
ok($t->reload_wait, 'the workers listen with reuseport');

sub scrape {
    my ($status, $head, $body) = VoiceTest::http_request($port,
        "GET /status HTTP/1.0\r\nHost: localhost\r\n\r\n");
    my %m;
    for (split /\n/, $body // '') {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (\S+)$/;
    }
    return ($status, $head, \%m, $body);
}

my ($status, $head, $m, $body) = scrape();
is($status, 200, 'voice_status answers');
like($head->{'content-type'}, qr{^text/plain; version=0\.0\.4},
    'in the Prometheus text format');
is($m->{voice_calls_active}, 0, 'no calls yet');
like($body, qr/^# TYPE voice_turn_stage_seconds histogram$/m,
    'histograms are typed');

my ($rc, $out) = VoiceTest::http_request($port, "POST /status HTTP/1.0\r\n"
    . "Host: localhost\r\nContent-Length: 1\r\n\r\nx");
is($rc, 405, 'POST is not allowed');

# ten echo calls at once

my $f = speak("$dir/q1.wav", 'What are your opening hours?', 160);
my ($rate, $pcm) = wav_pcm(slurp($f));
spit("$dir/one.wav", wav($rate, $pcm . "\0\0" x int($rate * 0.7)));

my $media_out = 0;
($rc, $out) = $t->call('/echo/x', "--play $dir/one.wav --fast --drain-ms 500"
    . ' --calls 10');
is($rc, 0, 'ten echo calls') or diag $out;
$media_out += $_ for $out =~ /, (\d+) media messages/g;

# agent calls: one turn; a failed STT (the apology is not a turn); a
# barge-in (two turns, one interruption)

my $q1 = 'What are your opening hours?';
my $q2 = 'And on Sundays?';
my @tts;

$fake->reset->transcripts($q1)->replies('Nine to five.');
($rc, $out) = $t->call('/media/one', "--play $dir/one.wav",
    '--silence-after 2000');
is($rc, 0, 'one turn') or diag $out;
$media_out += $_ for $out =~ /, (\d+) media messages/g;
push @tts, $fake->tts_texts;

$fake->reset->transcripts($q1)->replies('Nine to five.')->fail(stt => 500);
($rc, $out) = $t->call('/media/fail', "--play $dir/one.wav",
    '--silence-after 2500');
is($rc, 0, 'a failed STT request') or diag $out;
$media_out += $_ for $out =~ /, (\d+) media messages/g;
push @tts, $fake->tts_texts;

my $f2 = speak("$dir/q2.wav", $q2, 160);
my (undef, $pcm2) = wav_pcm(slurp($f2));
spit("$dir/barge.wav", wav($rate, $pcm . "\0\0" x int($rate * 1.5) . $pcm2
    . "\0\0" x int($rate * 0.5)));
$fake->reset->transcripts($q1, $q2)->replies(
    'Sure thing. We are open every single day of the week from nine in the '
        . 'morning until five in the evening. On weekends we open a little '
        . 'later. Anything else?',
    'Closed on Sundays.');
($rc, $out) = $t->call('/media/barge', "--play $dir/barge.wav",
    '--silence-after 4000');
is($rc, 0, 'a barge-in') or diag $out;
$media_out += $_ for $out =~ /, (\d+) media messages/g;
my ($clears) = $out =~ /(\d+) clears/;
is($clears, 1, 'one clear');
push @tts, $fake->tts_texts;
sleep 0.5;

($status, $head, $m) = scrape();
is($m->{voice_calls_active}, 0, 'no call left');
is($m->{'voice_calls_total{mode="echo"}'}, 10, 'ten echo calls');
is($m->{'voice_calls_total{mode="agent"}'}, 3, 'three agent calls');
is($m->{'voice_calls_closed_total{code="1000"}'}, 13,
    'all closed with 1000');
is($m->{voice_turns_total}, 3, 'three turns');
is($m->{voice_barge_ins_total}, 1, 'one barge-in');
is($m->{'voice_provider_requests_total{provider="stt",result="ok"}'}, 3,
    'three transcripts');
is($m->{'voice_provider_requests_total{provider="stt",result="error"}'}, 1,
    'one STT failure');
my $llm = 0;
$llm += $m->{"voice_provider_requests_total{provider=\"llm\",result=\"$_\"}"}
    for qw(ok error timeout cancelled);
is($llm, 3, 'three LLM requests');
my $tts = 0;
$tts += $m->{"voice_provider_requests_total{provider=\"tts\",result=\"$_\"}"}
    for qw(ok error timeout cancelled);
is($tts, scalar @tts, 'every TTS request counted');
is($m->{'voice_media_messages_total{direction="out"}'}, $media_out,
    'media messages out: what the callers received');
cmp_ok($m->{'voice_media_messages_total{direction="in"}'}, '>', 0,
    'media messages in');

for my $stage (qw(endpointing stt llm_first_token llm_first_sentence
    tts_first_byte voice_to_voice))
{
    my $k = "stage=\"$stage\"";
    is($m->{"voice_turn_stage_seconds_count{$k}"}, 3, "$stage: three turns");
    is($m->{"voice_turn_stage_seconds_bucket{$k,le=\"+Inf\"}"},
        $m->{"voice_turn_stage_seconds_count{$k}"}, "$stage: +Inf = count");
}
for my $h (qw(stt_llm llm_tts tts_media)) {
    my $k = "handoff=\"$h\"";
    is($m->{"voice_handoff_seconds_bucket{$k,le=\"+Inf\"}"}, 3,
        "$h: +Inf = 3");
}
cmp_ok($m->{'voice_turn_stage_seconds_sum{stage="endpointing"}'}, '>=', 1.5,
    'the sums are in seconds');

# the calls were served by both workers

my %pids = map { $_ => 1 } $t->error_log =~ /\[info\] (\d+)#\d+: \*\d+ voice: call /g;
is(scalar keys %pids, 2, 'the calls landed on both workers');

# a reload keeps the counts

ok($t->reload_wait, 'reloaded');
my ($s2, $h2, $m2) = scrape();
is($m2->{'voice_calls_total{mode="echo"}'}, 10, 'a reload keeps the counts');
is($m2->{voice_turns_total}, 3, 'all of them');

# the variables, per call

my @calls = grep { /turns=/ } split /\n/, slurp("$dir/logs/calls.log") // '';
is(scalar @calls, 13, 'an access_log line per call');
is(scalar(grep { /turns=0 barge_ins=0 failures=0 close=1000 peer_close=1000/ }
    @calls), 10, 'echo calls: no turns, closed with 1000 both ways')
    or diag $calls[0];
ok((grep { /turns=2 barge_ins=1 failures=0/ } @calls),
    'the barge-in call: two turns, one barge-in');
ok((grep { /turns=0 barge_ins=0 failures=1/ } @calls),
    'the failed call: one provider failure');
like($calls[-1], qr/media_out=[1-9]\d* marks_out=[1-9]\d* marks_in=[1-9]/,
    'media and marks');

$t->stop;

done_testing;
