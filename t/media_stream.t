#!/usr/bin/perl

# Media Streams WebSocket: handshake, framing, close codes, the Twilio
# protocol, echo mode, limits and per-call logging.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(decode_base64);
use VoiceTest qw(twilio_signature);
use VoiceWS;

my $t = VoiceTest->new;

$t->run(<<'CONF');
    log_format voice '$voice_call_sid $voice_stream_sid $status '
                     'in=$voice_frames_in out=$voice_frames_out '
                     'media=$voice_media_in/$voice_media_out '
                     'close=$voice_close_code time=$voice_call_duration';

    server {
        listen 127.0.0.1:%%PORT%%;
        # a small send buffer: the kernel cannot absorb what a stalled
        # reader leaves unread, so voice_max_pending has to
        listen 127.0.0.1:%%PORT2%% sndbuf=16k;
        server_name localhost;

        location /echo {
            voice_media_stream echo;
            voice_max_message 16k;
            access_log %%PREFIX%%/logs/calls.log voice;
        }

        location /signed {
            voice_twilio_auth_token tok3n;
            voice_media_stream echo;
        }

        location /idle {
            voice_media_stream echo;
            voice_idle_timeout 1s;
        }

        location /slow {
            voice_media_stream echo;
            voice_max_pending 64k;
        }
    }
CONF

my $port = $t->port;

sub ws { VoiceWS->connect(port => $port, path => '/echo', @_) }

# handshake

my $c = ws();
is($c->status, 101, 'handshake 101');
is($c->headers->{'sec-websocket-accept'}, $c->expected_accept,
    'Sec-WebSocket-Accept');
like($c->headers->{upgrade}, qr/^websocket$/i, 'Upgrade: websocket');
like($c->headers->{connection}, qr/upgrade/i, 'Connection: upgrade');

is(ws(headers => { Upgrade => 'WebSocket', Connection => 'keep-alive, UPGRADE' })
    ->status, 101, 'tokens are case-insensitive, in lists');

is(ws(method => 'POST')->status, 400, 'POST refused');
is(ws(version => 'HTTP/1.0')->status, 400, 'HTTP/1.0 refused');
is(ws(headers => { Upgrade => undef })->status, 400, 'no Upgrade');
is(ws(headers => { Upgrade => 'h2c' })->status, 400, 'Upgrade: h2c');
is(ws(headers => { Connection => 'keep-alive' })->status, 400,
    'Connection without upgrade');
is(ws(headers => { 'Sec-WebSocket-Key' => undef })->status, 400, 'no key');
is(ws(key => 'c2hvcnQ=')->status, 400, 'key not 16 bytes');
is(ws(key => '!!!!!!!!!!!!!!!!!!!!!!==')->status, 400, 'key not base64');
is(ws(headers => { 'Content-Length' => 5 }, after => 'hello')->status, 400,
    'a handshake with a body refused: Content-Length');
is(ws(headers => { 'Transfer-Encoding' => 'chunked' },
    after => "5\r\nhello\r\n0\r\n\r\n")->status, 400,
    'a handshake with a body refused: chunked');
my $v8 = ws(headers => { 'Sec-WebSocket-Version' => 8 });
is($v8->status, 426, 'version 8: 426');
is($v8->headers->{'sec-websocket-version'}, '13', 'tells version 13');

# X-Twilio-Signature over the stream URL

is(VoiceWS->connect(port => $port, path => '/signed/s1')->status, 403,
    'signature missing');
is(VoiceWS->connect(port => $port, path => '/signed/s1', headers => {
    'X-Twilio-Signature' => twilio_signature('wrong', 'ws://localhost/signed/s1')
})->status, 403, 'signature wrong');
is(VoiceWS->connect(port => $port, path => '/signed/s1', headers => {
    'X-Twilio-Signature' => twilio_signature('tok3n', 'ws://localhost/signed/s1')
})->status, 101, 'signature valid');
is(VoiceWS->connect(port => $port, path => '/signed/s1', headers => {
    'X-Twilio-Signature' => twilio_signature('tok3n', 'ws://localhost:80/signed/s1')
})->status, 101, 'signature valid with default port');

# echo: the audio comes back, with a mark after each second

my @frames;
for my $f (1 .. 60) {
    push @frames, join '', map { chr(($_ * 7 + $f * 13) & 0xff) } 1 .. 160;
}
$_ = join('', map { chr((ord($_) == 0x7f) ? 0xff : ord($_)) } split //, $_)
    for @frames;    # 0x7f and 0xff are both zero; echo sends 0xff

$c = ws();
$c->begin(call => 'CAecho1');
$c->send_json(VoiceWS::media_msg($frames[$_], $_ + 1)) for 0 .. $#frames;
$c->send_json({ event => 'stop', streamSid => 'MZ0123456789abcdef0123456789abcdef' });
my ($code, $reason, $msgs) = $c->read_close(5);
is($code, 1000, 'stop closes with 1000');
my @media = VoiceWS::events($msgs, 'media');
my @marks = VoiceWS::events($msgs, 'mark');
is(join('', map { decode_base64($_->{media}{payload}) } @media),
    join('', @frames), 'echo: audio back, identical');
is($media[0]{streamSid}, 'MZ0123456789abcdef0123456789abcdef',
    'echo: streamSid');
is(scalar @marks, 1, 'one mark for 1.2 s');
is($marks[0]{mark}{name}, 'echo-1', 'mark name');
$c->send_frame(op => 8, payload => pack('n', 1000));
ok($c->eof_within(5), 'server closes TCP after the close handshake');

# a stream SID that JSON must escape comes back as it was, in each message

my $odd = "MZ\"q\\b\n\x01/\xc3\xa9";
$c = ws();
$c->begin(stream => $odd);
$c->send_json(VoiceWS::media_msg($frames[$_], $_ + 1, stream => $odd))
    for 0 .. 54;
$c->send_json({ event => 'stop', streamSid => $odd });
($code, $reason, $msgs) = $c->read_close(5);
is($code, 1000, 'odd streamSid: the call runs and stops');
@media = VoiceWS::events($msgs, 'media');
@marks = VoiceWS::events($msgs, 'mark');
is(scalar @media, 55, 'odd streamSid: every media message parses');
is(scalar(grep { $_->{streamSid} eq $odd } @media, @marks), 56,
    'odd streamSid: escaped in each media message and the mark');

# frames split at every point, and sent right behind the handshake

my $buffer = join '', map { VoiceWS::frame(op => 1, payload => $_) }
    '{"event":"connected","protocol":"Call","version":"1.0.0"}',
    VoiceWS::encode(VoiceWS::start_msg()),
    (map { VoiceWS::encode(VoiceWS::media_msg($frames[$_], $_ + 1)) } 0 .. 2),
    '{"event":"stop"}';

my $all_ok = 1;
for my $split (1 .. length($buffer) - 1) {
    my $s = ws();
    $s->send_raw(substr $buffer, 0, $split);
    select undef, undef, undef, 0.001 if $split % 97 == 0;
    $s->send_raw(substr $buffer, $split);
    my ($code, undef, $m) = $s->read_close(5);
    my $audio = join '', map { decode_base64($_->{media}{payload} // '') }
        grep { ref $_ eq 'HASH' } @$m;
    if (($code // 0) != 1000 || $audio ne join('', @frames[0 .. 2])) {
        $all_ok = 0;
        diag("split at $split: close " . ($code // 'none'));
        last;
    }
}
ok($all_ok, 'every split point of a multi-frame buffer');

$c = ws(after => $buffer);
($code, undef, $msgs) = $c->read_close(5);
is($code, 1000, 'frames sent right behind the handshake are processed');
is(scalar(VoiceWS::events($msgs, 'media')), 3,
    'the media sent right behind it echoed');

# fragmentation and ping/pong

$c = ws();
my $start = VoiceWS::encode(VoiceWS::start_msg());
$c->send_json({ event => 'connected' });
$c->send_frame(op => 1, fin => 0, payload => substr($start, 0, 10));
$c->send_frame(op => 9, payload => 'ping-in-between');
$c->send_frame(op => 0, fin => 0, payload => substr($start, 10, 10));
$c->send_frame(op => 0, fin => 1, payload => substr($start, 20));
my ($op, $p) = $c->read_frame(5);
is($op, 10, 'pong during a fragmented message');
is($p, 'ping-in-between', 'pong echoes the payload');
$c->send_json(VoiceWS::media_msg($frames[0], 1));
($op, $p) = $c->read_frame(5);
is(VoiceWS::decode_json_safe($p)->{event}, 'media',
    'fragmented start was understood');

# the close handshake echoes the code

$c->send_frame(op => 8, payload => pack('n', 4001) . 'bye');
($code) = $c->read_close(5);
is($code, 4001, 'close code echoed');
ok($c->eof_within(5), 'TCP closed after close');

$c = ws();
$c->send_frame(op => 8);
($code) = $c->read_close(5);
is($code, 1005, 'empty close answered with an empty close');

$c = ws();
$c->send_frame(op => 8, payload => pack('n', 1012));
($code) = $c->read_close(5);
is($code, 1012, 'close code 1012 (service restart) echoed');

# close codes for broken peers

sub closes_with {
    my ($want, $name, @send) = @_;
    my $c = ws();
    $c->begin;
    $c->send_raw($_) for @send;
    my ($code) = $c->read_close(5);
    is($code, $want, "$name: $want");
    $c->send_frame(op => 8, payload => pack 'n', $want);
}

closes_with(1002, 'reserved bit', VoiceWS::frame(op => 1, rsv => 4, payload => '{}'));
closes_with(1002, 'unknown opcode', VoiceWS::frame(op => 3, payload => 'x'));
closes_with(1002, 'unknown control opcode', VoiceWS::frame(op => 11, payload => 'x'));
closes_with(1002, 'control frame > 125', VoiceWS::frame(op => 9, payload => 'x' x 126));
closes_with(1002, 'fragmented control frame', VoiceWS::frame(op => 9, fin => 0, payload => 'x'));
closes_with(1002, 'unmasked frame', VoiceWS::frame(op => 1, mask => 0, payload => '{}'));
closes_with(1002, 'continuation without start', VoiceWS::frame(op => 0, payload => '{}'));
closes_with(1002, 'new message inside a fragmented one',
    VoiceWS::frame(op => 1, fin => 0, payload => '{'),
    VoiceWS::frame(op => 1, payload => '{}'));
closes_with(1002, 'invalid close code', VoiceWS::frame(op => 8, payload => pack('n', 999)));
closes_with(1003, 'binary frame', VoiceWS::frame(op => 2, payload => "\x00\x01"));
closes_with(1007, 'invalid JSON', VoiceWS::frame(op => 1, payload => '{"event":'));
closes_with(1007, 'not an object', VoiceWS::frame(op => 1, payload => '[1,2]'));
closes_with(1007, 'invalid UTF-8', VoiceWS::frame(op => 1, payload => "{\"event\":\"\xc3\x28\"}"));
closes_with(1007, 'overlong UTF-8', VoiceWS::frame(op => 1, payload => "{\"event\":\"\xc0\xaf\"}"));
closes_with(1007, 'invalid UTF-8 in a close reason',
    VoiceWS::frame(op => 8, payload => pack('n', 1000) . "\xc3\x28"));
closes_with(1007, 'surrogate in UTF-8', VoiceWS::frame(op => 1, payload => "{\"event\":\"\xed\xa0\x80\"}"));
closes_with(1009, 'message over voice_max_message',
    VoiceWS::frame(op => 1, payload => '{"x":"' . ('a' x 17000) . '"}'));
closes_with(1009, 'fragments over voice_max_message',
    (map { VoiceWS::frame(op => $_ ? 0 : 1, fin => 0, payload => 'a' x 5000) } 0 .. 3),
    VoiceWS::frame(op => 0, payload => 'a'));

$c = ws();
$c->send_json({ event => 'connected' });
$c->send_json(VoiceWS::start_msg(format => { encoding => 'audio/l16',
    sampleRate => 16000, channels => 1 }));
($code, $reason) = $c->read_close(5);
is($code, 1003, 'unsupported media format refused');
like($reason, qr/media format/, 'with a reason');

# unknown events and numbers as strings are fine

$c = ws();
$c->send_json({ event => 'connected' });
my $sm = VoiceWS::start_msg();
$sm->{start}{mediaFormat}{sampleRate} = '8000';
$sm->{start}{mediaFormat}{channels} = '1';
$c->send_json($sm);
$c->send_json({ event => 'something-new', nested => { a => [1, { b => 2 }] } });
$c->send_json({ event => 'dtmf', streamSid => 'MZ1', dtmf => { track => 'inbound_track', digit => '5' } });
$c->send_json({ event => 'mark', streamSid => 'MZ1', mark => { name => 'x' } });
$c->send_json(VoiceWS::media_msg($frames[5], 7));
($op, $p) = $c->read_frame(5);
is(VoiceWS::media_audio($p), $frames[5],
    'unknown event ignored, numeric strings accepted');

# idle timeout

$c = VoiceWS->connect(port => $port, path => '/idle');
$c->begin;
($code) = $c->read_close(10);
is($code, 1001, 'idle timeout closes with 1001');

# a reader that stops reading is cut off without hurting another call

my $slow = VoiceWS->connect(port => ($t->ports)[1], path => '/slow',
    rcvbuf => 4096);
my $good = ws();
$good->begin(call => 'CAgood');
$slow->begin(call => 'CAslow');
my $big = 'x' x 8000;
$slow->{s}->blocking(0);
for my $i (1 .. 400) {
    last unless $slow->send_raw(VoiceWS::frame(op => 1,
        payload => VoiceWS::encode(VoiceWS::media_msg($big, $i))));
}
$good->send_json(VoiceWS::media_msg($frames[1], 1));
($op, $p) = $good->read_frame(5);
is(VoiceWS::media_audio($p), $frames[1],
    'other call unaffected by a stalled reader');
$good->send_json({ event => 'stop' });
is(($good->read_close(5))[0], 1000, 'other call ends normally');

for (1 .. 100) {
    last if $t->error_log =~ /peer is not reading/;
    select undef, undef, undef, 0.1;
}
like($t->error_log, qr/peer is not reading, \d+ bytes pending \(voice_max_pending 65536\)/,
    'stalled reader closed with a log line');

undef $c;
$t->stop;

# one access log line per call

open my $fh, '<', $t->prefix . '/logs/calls.log' or die $!;
my @lines = <$fh>;
my ($echo) = grep { /^CAecho1 / } @lines;
like($echo, qr/^CAecho1 MZ0123456789abcdef0123456789abcdef 101 in=\d+ out=\d+ media=60\/60 close=1000 time=\d+\.\d{3}$/,
    'access log line with call sid, frame counts and duration');

done_testing;
