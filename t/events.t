#!/usr/bin/perl

# voice_events: each call's events POSTed as JSON to an internal
# location, in order: call.started (sids, mode, custom parameters),
# a turn per caller turn (transcript, reply, what was heard, interrupted
# or not, tool calls, timings), call.ended (duration, turns, close
# codes).  A receiver that is slow, hangs or fails changes nothing the
# caller gets; what it costs is counted in voice_events_total.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use VoiceTest qw(slurp spit);
use VoiceAudio qw(wav wav_pcm speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");
my $p = $fake->port;
my $dead = VoiceTest::free_port();

my @functions = ({ type => 'function', function => {
    name => 'lookup', description => 'Opening hours.',
    parameters => { type => 'object', properties => {} } } });
spit("$dir/tools.json", JSON::PP->new->pretty->encode(\@functions));

$t->run_agent($fake, <<"CONF");
        voice_twilio_auth_token t0ken;
        voice_tools $dir/tools.json;
        voice_tool lookup /tools/lookup;
        voice_events /_events;

        location ~ ^/hook/(?<id>[A-Za-z0-9]+)\$ {
            voice_twiml;
            voice_stream_url ws://\$http_host/media/\$id;
            voice_stream_parameter id \$id;
            voice_stream_parameter caller "O'Brien \\"x\\"";
        }

        location /media/ {
            voice_media_stream agent;
        }

        location /echo/ {
            voice_media_stream echo;
        }

        location /quiet/ {
            voice_media_stream agent;
            voice_events off;
        }

        location /slow/ {
            voice_media_stream agent;
            voice_events /_slow;
            voice_events_queue 2;
            voice_events_timeout 2s;
        }

        location /failing/ {
            voice_media_stream agent;
            voice_events /_failing;
        }

        location = /_events {
            internal;
            proxy_pass http://127.0.0.1:$p/events;
        }

        location = /_slow {
            internal;
            proxy_pass http://127.0.0.1:$p/events_slow;
            proxy_read_timeout 30s;
        }

        location = /_failing {
            internal;
            proxy_pass http://127.0.0.1:$dead/events;
        }

        location = /status {
            voice_status;
        }

        location /tools/ {
            internal;
            proxy_pass http://127.0.0.1:$p/tool/;
        }
CONF

my $port = $t->port;

sub events {
    my ($path) = @_;
    return map { decode_json($_) } $fake->requests($path);
}

my $q1 = 'What are your opening hours?';
my $q2 = 'And on Sundays?';
my ($rate, $pcm) = wav_pcm(slurp(speak("$dir/q1.wav", $q1, 160)));
my (undef, $pcm2) = wav_pcm(slurp(speak("$dir/q2.wav", $q2, 160)));
spit("$dir/one.wav", wav($rate, $pcm . "\0\0" x int($rate * 0.7)));
spit("$dir/barge.wav", wav($rate, $pcm . "\0\0" x int($rate * 1.5) . $pcm2
    . "\0\0" x int($rate * 0.5)));

my $long = 'Sure thing. We are open every single day of the week from nine '
    . 'in the morning until five in the evening. On weekends we open a '
    . 'little later. Anything else?';

# a call through the webhook: a tool call, then a barge-in

$fake->reset->transcripts($q1, $q2)->llm_script(
    { text => '', calls => [ { name => 'lookup',
        arguments => '{"day":"today"}' } ] },
    $long, 'Closed on Sundays.');
$fake->tool_answer(lookup => '{"hours":"9-5"}');

my ($rc, $out, $err) = $t->sim("--url http://127.0.0.1:$port/hook/A1"
    . " --token t0ken --play $dir/barge.wav --silence-after 4000");
is($rc, 0, 'the call') or diag $out, $err;
my ($clears) = $out =~ /(\d+) clears/;
is($clears, 1, 'the caller interrupted once');
sleep 0.5;

my @ev = events('events');

# as received, for a look with VOICE_KEEP=1 (docs/events.md shows them)
spit("$dir/events.json", join "\n", $fake->requests('events'));
is(join(' ', map { $_->{event} } @ev), 'call.started turn turn call.ended',
    'started, two turns, ended, in order');
is(join(' ', map { $_->{seq} } @ev), '0 1 2 3', 'numbered from 0');

my %sids = map { $_->{call_sid} => 1 } @ev;
is(scalar keys %sids, 1, 'one call sid in all');
like((keys %sids)[0], qr/^CA[0-9a-f]{32}$/, 'the call sid');
ok((grep { $_->{stream_sid} =~ /^MZ/ } @ev) == 4, 'the stream sid in each');
ok((grep { $_->{time} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ } @ev)
    == 4, 'the time in each, UTC');

my ($start, $t1, $t2, $end) = @ev;
is($start->{mode}, 'agent', 'started: the mode');
like($start->{account_sid}, qr/^AC/, 'started: the account');
is_deeply($start->{custom_parameters},
    { id => 'A1', caller => "O'Brien \"x\"" },
    'started: the custom parameters, escaped right, without the voiceToken');

is($t1->{turn}, 1, 'turn 1');
is($t1->{transcript}, $q1, 'turn 1: the transcript');
is($t1->{reply}, $long, 'turn 1: all the reply');
ok($t1->{interrupted}, 'turn 1: interrupted');
like($t1->{heard}, qr/^Sure thing\..* \[interrupted\]$/,
    'turn 1: what was heard, cut');
cmp_ok(length $t1->{heard}, '<', length($long) + 14, 'not all of it');
is(scalar @{ $t1->{tool_calls} }, 1, 'turn 1: one tool call');
is($t1->{tool_calls}[0]{function}{name}, 'lookup', 'the function');
is($t1->{tool_calls}[0]{function}{arguments}, '{"day":"today"}',
    'its arguments');
is_deeply($t1->{tool_results}, [ { tool_call_id => $t1->{tool_calls}[0]{id},
    content => '{"hours":"9-5"}' } ], 'its result');
my $tm = $t1->{timings};
ok($tm && defined $tm->{voice_to_voice_ms}, 'turn 1: timings');
cmp_ok($tm->{voice_to_voice_ms}, '>=', $tm->{endpointing_ms},
    'voice-to-voice includes the endpointing');
ok(defined $tm->{$_}, "timings: $_") for qw(stt_ms llm_first_token_ms
    llm_first_sentence_ms tts_first_byte_ms module_us);

is($t2->{turn}, 2, 'turn 2');
is($t2->{transcript}, $q2, 'turn 2: the transcript');
is($t2->{reply}, 'Closed on Sundays.', 'turn 2: the reply');
is($t2->{heard}, 'Closed on Sundays.', 'turn 2: heard whole');
ok(!$t2->{interrupted}, 'turn 2: not interrupted');
is_deeply($t2->{tool_calls}, [], 'turn 2: no tool calls');

is($end->{turns}, 2, 'ended: two turns');
is($end->{barge_ins}, 1, 'ended: one barge-in');
is($end->{close_code}, 1000, 'ended: closed with 1000');
is($end->{events_dropped}, 0, 'ended: nothing dropped');
cmp_ok($end->{duration_ms}, '>', 5000, 'ended: the duration');
cmp_ok($end->{media_out}, '>', 0, 'ended: media out');

my @heads = $fake->request_heads('events');
like($heads[0], qr{^POST /events\n}, 'POSTed');
like($heads[0], qr{^content-type: application/json$}m, 'as JSON');

# an echo call: started and ended

$fake->reset;
($rc, $out) = $t->call('/echo/e1', "--play $dir/one.wav --fast --token t0ken");
is($rc, 0, 'an echo call') or diag $out;
sleep 0.3;
@ev = events('events');
is(join(' ', map { $_->{event} } @ev), 'call.started call.ended',
    'echo: started and ended');
is($ev[0]{mode}, 'echo', 'the mode');
is_deeply($ev[0]{custom_parameters}, {}, 'no parameters');

# the same call against a receiver that hangs, one that is down, and no
# receiver: the caller gets the same

sub one_call {
    my ($path, @hang) = @_;
    $fake->reset->transcripts($q1)->replies('Nine to five.');
    $fake->hang($_) for @hang;
    my ($rc, $out) = $t->call($path, "--play $dir/one.wav --token t0ken",
        '--silence-after 2000');
    is($rc, 0, "$path: the call") or diag $out;
    my ($media) = $out =~ /, (\d+) media messages/;
    return ($media, join '|', $fake->tts_texts);
}

my ($m0, $tts0) = one_call('/quiet/q');
is(scalar(events('events')), 0, 'voice_events off: no events');

my ($m1, $tts1) = one_call('/slow/s', 'events_slow');
is($m1, $m0, 'a hanging receiver: the same media');
is($tts1, $tts0, 'and the same reply');

my @slow = events('events_slow');
my ($m2, $tts2) = one_call('/failing/f');
is($m2, $m0, 'a receiver that is down: the same media');
is($tts2, $tts0, 'and the same reply');

# the hanging receiver got call.started; the queue of 2 took the turn and
# call.ended had its own room; the wait after the call gave up on them

sleep 2.5;
is(scalar @slow, 1, 'the hanging receiver got one request');
is($slow[0]{event}, 'call.started', 'the first');

my $log = $t->error_log;
my $gave_up = 'voice: 3 events of the call not sent to "/_slow" in '
    . 'voice_events_timeout (2000 ms), dropped';
ok(index($log, $gave_up) >= 0, 'the wait gave up, said so');
like($log, qr/voice: events request to "\/_failing" failed \(status 502\)/,
    'the failing receiver is told of once');
is(scalar(() = $log =~ /events request to "\/_failing" failed/g), 1,
    'once per call');

my ($status, undef, $body) = VoiceTest::http_request($port,
    "GET /status HTTP/1.0\r\nHost: localhost\r\n\r\n");
my %m = $body =~ /^voice_events_total\{result="(\w+)"\} (\d+)$/mg;
is_deeply(\%m, { sent => 6, failed => 3, dropped => 3 },
    'voice_events_total: 6 sent, 3 failed, 3 dropped');
unlike($body, qr/provider="events"/, 'events are no provider requests');

$t->stop;
$t->check_log;

done_testing;
