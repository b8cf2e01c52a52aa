#!/usr/bin/perl

# The media stream when things go wrong around it: a caller that stops
# reading while the agent speaks is cut off from outside nginx's handlers
# and the other calls on the worker go on; a protocol error fails the
# connection at once; send_timeout runs between writes; a reload keeps an
# agent call mid-reply, and worker_shutdown_timeout ends each call with
# 1001.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(slurp spit);
use VoiceAudio qw(speak);
use VoiceWS;
use FakeProvider;
use JSON::PP ();
use IO::Select;
use IPC::Open2;
use Time::HiRes qw(time);

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

# a certificate for the wss:// listener
system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
    . "-keyout $dir/key.pem -out $dir/cert.pem >/dev/null 2>&1") == 0
    or die "openssl failed";

my $server = <<'CONF';
        location /media/ {
            voice_media_stream agent;
            access_log %%PREFIX%%/logs/calls.log voice;
        }

        location /echo {
            voice_media_stream echo;
            access_log %%PREFIX%%/logs/calls.log voice;
        }

        location /fail {
            voice_media_stream echo;
            lingering_timeout 60s;
            access_log %%PREFIX%%/logs/calls.log voice;
        }
CONF
my $http = <<'HTTP';
    log_format voice '$voice_call_sid close=$voice_close_code';

    # a small socket buffer: the calls' own queues hold what is pending,
    # not the kernel's
    server {
        listen 127.0.0.1:%%PORT3%% sndbuf=16k;
        server_name localhost;

        location /trickle {
            voice_media_stream echo;
            send_timeout 1s;
            voice_max_pending 4m;
            access_log %%PREFIX%%/logs/calls.log voice;
        }

        location /stall/ {
            voice_media_stream agent;
            voice_max_pending 16k;
            voice_stt /_stt;
            voice_llm /_llm;
            voice_tts /_tts;
            access_log %%PREFIX%%/logs/calls.log voice;
        }

%%PROVIDERS%%
    }

    server {
        listen 127.0.0.1:%%PORT2%% ssl;
        server_name localhost;
        ssl_certificate %%PREFIX%%/cert.pem;
        ssl_certificate_key %%PREFIX%%/key.pem;

        location /fail {
            voice_media_stream echo;
            lingering_timeout 60s;
            access_log %%PREFIX%%/logs/calls.log voice;
        }
    }
HTTP
my $providers = $fake->locations;
$http =~ s/%%PROVIDERS%%\n/$providers/;
$t->run_agent($fake, $server, http => $http);

my $port = $t->port;
my $small = ($t->ports)[2];

speak("$dir/q.wav", 'What are your opening hours?', 160);

# 20 ms of μ-law: silence, and a 1 kHz square wave loud enough for the
# endpointer
my $quiet = "\xff" x 160;
my $tone = "\xa0\xa0\xa0\xa0\x20\x20\x20\x20" x 20;

# A caller that says something, then never reads: a receive buffer of
# 4 KB that fills at once.
sub stalled_caller {
    my ($path, $call) = @_;
    my $c = VoiceWS->connect(port => $small, path => $path, rcvbuf => 4096);
    $c->begin(call => $call);
    my @audio = (($quiet) x 15, ($tone) x 40, ($quiet) x 60);
    $c->send_json(VoiceWS::media_msg($audio[$_], $_ + 1)) for 0 .. $#audio;
    return $c;
}

# the close code in a call's access log line, undef while it goes on
sub call_logged {
    my ($sid) = @_;
    my ($code) = slurp("$dir/logs/calls.log") =~ /^\Q$sid\E close=(\d+)$/m;
    return $code;
}

# the same, once the call has ended (waits up to 10 s)
sub call_ended {
    my ($sid) = @_;
    for (1 .. 100) {
        my $code = call_logged($sid);
        return $code if defined $code;
        select undef, undef, undef, 0.1;
    }
    return undef;
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

ok(wait_log(qr/peer is not reading, \d+ bytes pending /
        . qr/\(voice_max_pending 16384\), closing/),
    'the stalled call is closed with an info line naming why');
ok(defined call_ended('CAstalled'), 'the call is over');

# A protocol error fails the connection (RFC 6455 7.1.7): our close frame
# and then at once the end of the stream, without the peer's answer or
# the close wait (lingering_timeout, 60 s here).  Whatever the peer sends
# is read, not answered with a reset, and its end ends the call.

my $f = VoiceWS->connect(port => $port, path => '/fail');
$f->begin(call => 'CAfailed');
$f->send_raw(VoiceWS::frame(op => 3, payload => 'x'));
is(($f->read_close(5))[0], 1002, 'a protocol error is answered with 1002');
ok($f->eof_within(10), 'then the stream ends, the peer silent');
ok(!defined call_logged('CAfailed'), 'while the call still reads the peer');
$f->send_frame(op => 8, payload => pack('n', 1002));
close $f->socket;
is(call_ended('CAfailed'), 1002,
    'the peer\'s close frame and end of stream end the call');
my $errors = () = $t->error_log =~ /WebSocket protocol error/g;
is($errors, 1, 'what the peer sent after the error is not parsed');

# send_timeout is the time between two writes, as nginx measures it: a
# caller that reads slowly but steadily is not cut off although its
# queue takes longer than that to drain

my $slow = VoiceWS->connect(port => $small, path => '/trickle',
    rcvbuf => 4096);
$slow->begin(call => 'CAtrickle');
my $second = join '', map { chr(0x80 + $_ % 0x70) } 1 .. 8000;
$slow->send_json(VoiceWS::media_msg($second, $_)) for 1 .. 40;
my ($audio, $began) = ('', time);
while (length $audio < 40 * 8000 && time < $began + 60) {
    select undef, undef, undef, 0.05;
    last unless sysread $slow->socket, $slow->{buf}, 8192,
        length $slow->{buf};
    while (my ($op, $p) = $slow->read_frame(0)) {
        $audio .= VoiceWS::media_audio($p) if $op == 1;
    }
}
cmp_ok(time - $began, '>', 1,
    'the queue took longer than send_timeout to drain');
is(length $audio, 40 * 8000, 'a slow reader gets all of it');
$slow->send_json({ event => 'stop' });
is(($slow->read_close(5))[0], 1000, 'and ends the call itself');
unlike($t->error_log, qr/timed out reading/, 'no send timeout');

my $stuck = VoiceWS->connect(port => $small, path => '/trickle',
    rcvbuf => 4096);
$stuck->begin(call => 'CAstuck');
$stuck->send_json(VoiceWS::media_msg($second, $_)) for 1 .. 40;
ok(wait_log(qr/peer timed out reading the media stream/),
    'a caller that reads nothing is cut off by send_timeout');
ok(defined call_ended('CAstuck'), 'the call is over');

# the same over TLS: close_notify goes with the end of the stream

my $port2 = ($t->ports)[1];
my $pid = open2(my $from, my $to, 'openssl s_client -quiet -connect '
    . "127.0.0.1:$port2 2>/dev/null");
binmode $_ for $from, $to;
syswrite $to, "GET /fail HTTP/1.1\r\nHost: localhost\r\n"
    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    . "Sec-WebSocket-Version: 13\r\n\r\n"
    . VoiceWS::frame(op => 1, payload => VoiceWS::encode(
        VoiceWS::start_msg(call => 'CAfailedtls')))
    . VoiceWS::frame(op => 3, payload => 'x');
my ($heard, $ended) = ('', 0);
my $sel = IO::Select->new($from);
my $until = time + 10;
while (time < $until && $sel->can_read($until - time)) {
    my $n = sysread $from, $heard, 4096, length $heard;
    if (!$n) {
        $ended = 1;
        last;
    }
}
like($heard, qr/^HTTP\/1\.1 101 .*\x88\x10\x03\xeaprotocol error$/s,
    'wss: a protocol error is answered with 1002');
ok($ended, 'wss: then the stream ends, the peer silent');
is(call_ended('CAfailedtls'), 1002,
    'wss: the peer\'s end of the stream ends the call');
close $to;
waitpid $pid, 0;

# A reload, and each old worker shuts down gracefully once its calls end
# (echo_calls.t has an echo call across it).  Returns when the old worker
# is shutting down: calls from then on go to the new one.
sub reload {
    my $before = () = $t->error_log =~ /gracefully shutting down/g;
    $t->reload;
    for (1 .. 100) {
        my $now = () = $t->error_log =~ /gracefully shutting down/g;
        return 1 if $now > $before;
        select undef, undef, undef, 0.1;
    }
    return 0;
}

# an agent call mid-reply across a reload: the reply plays on, and the
# next turn is answered on the old worker

$fake->reset->transcripts('What are your opening hours?', 'And on Sundays?')
    ->replies('We open at nine in the morning. We close at five in the '
        . 'evening. On Saturdays we close at noon.', 'Closed on Sundays.');
$t->sim_start(reload => "--stream-url ws://127.0.0.1:$port/media/reload",
    "--say 'What are your opening hours?' --say 'And on Sundays?'",
    '--silence-after 8000 --json -v');
ok(FakeProvider::wait_for_media("$dir/reload.err"),
    'the reply reaches the caller');
ok(reload(), 'nginx reloads mid-reply');
($rc, $out, $err) = $t->sim_wait('reload');
my $report = eval { JSON::PP::decode_json($out)->{calls}[0] } || {};
ok($rc == 0 && $report->{ok}, 'the call across the reload completes')
    or diag $out, $err;
my @tts = $fake->tts_texts;
is(scalar @tts, 4, 'both replies went to TTS');
my $chars = 0;
$chars += length for @tts;
is($report->{audio_heard_bytes}, 160 * $chars, 'and were heard whole');
ok(!grep({ $_->{reply_after_ms} < 0 } @{ $report->{turns} || [] })
    && @{ $report->{turns} || [] } == 2, 'each turn answered');

# worker_shutdown_timeout: when it runs out, every call (here an echo
# call and an agent call waiting on TTS) gets a 1001 close frame and an
# info line before its connection goes

my $conf = slurp("$dir/nginx.conf");
$conf =~ s/^(worker_processes .*)$/$1\nworker_shutdown_timeout 2s;/m;
spit("$dir/nginx.conf", $conf);
ok(reload(), 'a worker with worker_shutdown_timeout 2s');

$fake->reset->hang('tts');
my $echo = VoiceWS->connect(port => $port, path => '/echo');
$echo->begin(call => 'CAshutecho');
$echo->send_json(VoiceWS::media_msg($quiet, 1));
my $agent = VoiceWS->connect(port => $port, path => '/media/shut');
$agent->begin(call => 'CAshutagent');
my @audio = (($quiet) x 15, ($tone) x 40, ($quiet) x 60);
$agent->send_json(VoiceWS::media_msg($audio[$_], $_ + 1)) for 0 .. $#audio;
ok(FakeProvider::wait_for("$dir/fake/*-tts.body"),
    'the agent call waits on TTS');
ok(reload(), 'that worker shuts down');

my ($ecode, $ereason) = $echo->read_close(10);
is($ecode, 1001, 'the echo call gets 1001');
like($ereason, qr/shutting down/, 'saying why');
is(($agent->read_close(10))[0], 1001, 'the agent call gets 1001');
ok($echo->eof_within(5) && $agent->eof_within(5), 'then their connections go');
like($t->error_log,
    qr/worker is shutting down, call "CAshutecho" closed with 1001/,
    'an info line for the echo call');
like($t->error_log,
    qr/worker is shutting down, call "CAshutagent" closed with 1001/,
    'and for the agent call');
ok(call_ended('CAshutecho') == 1001 && call_ended('CAshutagent') == 1001,
    'their access log lines say 1001');
ok($fake->closed('tts'), 'the TTS request went with its call');

$t->stop;

done_testing;
