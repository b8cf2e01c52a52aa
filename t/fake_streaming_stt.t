#!/usr/bin/perl

# The fake streaming recognizer alone, driven by the tests' own masking
# WebSocket client: it speaks Deepgram's live protocol and OpenAI's
# realtime transcription, records what it got and rejects what a real
# server rejects.
#
# error log: none, it runs no nginx, only the fake (Perl, no log)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);
use VoiceWS;
use FakeStreamingSTT;

$SIG{ALRM} = sub { die "test timed out\n" };
alarm 120;

my $dir = tempdir('voice-fake-stt-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $fake = FakeStreamingSTT->new(dir => "$dir/fake");

my $DG = '/v1/listen?encoding=mulaw&sample_rate=8000&channels=1'
    . '&interim_results=true&smart_format=true';

sub open_ws {
    my ($path, %h) = @_;
    return VoiceWS->connect(port => $fake->port, path => $path,
        host => '127.0.0.1', headers => \%h);
}

# the next text message, decoded; undef on a timeout or another frame
sub next_json {
    my ($ws, $timeout) = @_;
    my ($op, $p) = $ws->read_frame($timeout // 5);
    return undef unless defined $op && $op == 1;
    return VoiceWS::decode_json_safe($p);
}

# messages up to and with the first of that type: (it, \@before)
sub until_type {
    my ($ws, $type) = @_;
    my @seen;
    while (my $m = next_json($ws)) {
        return ($m, \@seen) if ($m->{type} // '') eq $type;
        push @seen, $m;
    }
    return (undef, \@seen);
}

sub transcript { $_[0]{channel}{alternatives}[0]{transcript} }

# 160-byte frames of one byte value each
sub speak {
    my ($ws, $frames, $byte) = @_;
    my $all = '';
    for my $i (1 .. $frames) {
        my $f = chr(($byte + $i) % 256) x 160;
        $ws->send_frame(op => 2, payload => $f);
        $all .= $f;
    }
    return $all;
}

# the handshake: the Accept of RFC 6455, Deepgram's request id

my $ws = open_ws($DG, Authorization => 'Token abc');
is($ws->status, 101, 'Deepgram: 101 Switching Protocols');
is($ws->headers->{'sec-websocket-accept'}, $ws->expected_accept,
    'Sec-WebSocket-Accept is the key\'s');
like($ws->headers->{'dg-request-id'} // '', qr/^[0-9a-f-]{36}$/,
    'a dg-request-id header');
$ws->send_frame(op => 8, payload => pack 'n', 1000);
my ($code) = $ws->read_close(5);
is($code, 1000, 'a client close is answered with its code');
ok($fake->wait_ended(0), 'the connection ended');
is($fake->ended(0), 'client close 1000', 'recorded as the client\'s close');
is($fake->path(0), '/v1/listen', 'path recorded');
is($fake->query(0)->{encoding}, 'mulaw', 'query recorded');
is($fake->headers(0)->{authorization}, 'Token abc', 'headers recorded');
like($fake->request(0), qr{^GET /v1/listen\?encoding=mulaw\S* HTTP/1\.1$},
    'request line recorded');

# handshakes a server rejects

$fake->reset;
$ws = open_ws($DG, 'Sec-WebSocket-Key' => 'c2hvcnQ=');
is($ws->status, 400, 'a key of other than 16 bytes: 400');
$ws = open_ws($DG, 'Sec-WebSocket-Version' => 8);
is($ws->status, 426, 'another version: 426');
$ws = open_ws('/v1/other');
is($ws->status, 404, 'another path: 404');
$ws = open_ws('/v1/realtime');
is($ws->status, 400, 'realtime without intent=transcription: 400');
is($fake->connections, 4, 'every attempt counted');
like($fake->ended(0), qr/^bad handshake: Sec-WebSocket-Key/,
    'the reason recorded');

$fake->reset->refuse(401, 1);
$ws = open_ws($DG);
is($ws->status, 401, 'refuse(401, 1): the next handshake gets 401');
is($fake->ended(0), 'refused 401', 'recorded as refused');
$ws = open_ws($DG);
is($ws->status, 101, 'and the one after it is accepted');

$fake->reset->refuse(503);
is(open_ws($DG)->status, 503, 'refuse(503): refused');
is(open_ws($DG)->status, 503, 'every time');

$fake->reset->key('s3cret');
is(open_ws($DG, Authorization => 'Token wrong')->status, 401,
    'key: a wrong key gets 401');
is(open_ws($DG)->status, 401, 'no key gets 401');
is(open_ws($DG, Authorization => 'Token s3cret')->status, 101,
    'the right key is accepted');
$ws = open_ws($DG, 'Sec-WebSocket-Protocol' => 'token, s3cret');
is($ws->status, 101, 'as a subprotocol too');
is($ws->headers->{'sec-websocket-protocol'}, 'token',
    'the subprotocol chosen');
is(open_ws('/v1/realtime?intent=transcription',
    Authorization => 'Bearer s3cret')->status, 101,
    'OpenAI takes a Bearer key');

# Deepgram: interim results as the audio comes, the final one for
# Finalize, a pong, fragments, CloseStream

$fake->reset->transcripts('Hello there friend.', 'What time is it?')
    ->interim_every(1600);
$ws = open_ws($DG);
my $u1 = speak($ws, 30, 1);
my @interims;
while (@interims < 3 and my $m = next_json($ws)) {
    push @interims, $m;
}
is_deeply([map { transcript($_) } @interims],
    ['Hello', 'Hello there', 'Hello there friend.'],
    'interim results, a word more each 1600 bytes');
ok(!grep({ $_->{is_final} } @interims), 'interim results are not final');
is($interims[0]{type}, 'Results', 'of type Results');

$ws->send_frame(op => 9, payload => 'ping!');
my ($op, $p) = $ws->read_frame(5);
is($op, 10, 'a ping is answered with a pong');
is($p, 'ping!', 'carrying its payload');

$ws->send_json({ type => 'KeepAlive' });
$ws->send_frame(op => 1, fin => 0, payload => '{"type":');
$ws->send_frame(op => 0, payload => '"KeepAlive"}');
$ws->send_json({ type => 'Finalize' });
my ($final) = until_type($ws, 'Results');
is(transcript($final), 'Hello there friend.', 'Finalize: the transcript');
ok($final->{is_final} && $final->{from_finalize} && $final->{speech_final},
    'is_final, from_finalize and speech_final');
is($final->{start}, 0, 'from the first byte');
is($final->{duration}, 30 * 160 / 8000, 'its duration, from the rate');
is(scalar @{ $final->{channel}{alternatives}[0]{words} }, 3,
    'each word with its times');

my $u2 = speak($ws, 8, 100);
$ws->send_json({ type => 'Finalize' });
($final) = until_type($ws, 'Results');
is(transcript($final), 'What time is it?', 'the next utterance, the next '
    . 'transcript');
is($final->{start}, 30 * 160 / 8000, 'it starts where the first ended');

$ws->send_json({ type => 'CloseStream' });
my ($meta) = until_type($ws, 'Metadata');
ok($meta, 'CloseStream: Metadata');
is($meta->{duration}, 38 * 160 / 8000, 'with the audio\'s duration');
($op, $p) = $ws->read_frame(5);
is($op, 8, 'then a close frame');
is(unpack('n', $p), 1000, 'code 1000');
$ws->send_frame(op => 8, payload => pack 'n', 1000);
ok($ws->eof_within(5), 'the server closes TCP once the client answered');
ok($fake->wait_ended(0), 'ended');
is($fake->ended(0), 'server close 1000', 'recorded as the server\'s close');

is($fake->audio(0), $u1 . $u2, 'audio: every byte in order');
is_deeply([$fake->utterances(0)], [$u1, $u2], 'cut at each Finalize');
is(scalar $fake->keepalives(0), 2, 'both KeepAlives, the fragmented one too');
is(scalar $fake->finalizes(0), 2, 'both Finalizes');
my @frames = $fake->frames(0);
is(scalar @frames, 38, 'every audio frame');
is_deeply([@{ $frames[30] }[1, 2]], [4800, 160], 'with offset and length');
my @types = map { $_->{type} } $fake->messages(0);
is_deeply(\@types, [qw(KeepAlive KeepAlive Finalize Finalize CloseStream)],
    'every text message in order');
my @log = $fake->message_log(0);
is($log[2]{at}, 4800, 'with the audio bytes before it');
cmp_ok(abs($log[0]{t} - time), '<', 30, 'and when it came');
my @sent = $fake->sent(0);
is($sent[-1]{json}{type}, 'Metadata', 'what the fake sent, recorded');

# without punctuate or smart_format Deepgram gives bare words; its
# events on request; its own endpointing

$fake->reset->transcripts('Hello there friend.')->speech_final_after(1600);
$ws = open_ws('/v1/listen?encoding=mulaw&sample_rate=8000&vad_events=true'
    . '&utterance_end_ms=1000');
speak($ws, 12, 1);
my ($started) = next_json($ws);
is($started->{type}, 'SpeechStarted', 'vad_events=true: SpeechStarted');
my ($sf) = until_type($ws, 'Results');
is(transcript($sf), 'hello there friend', 'bare words without smart_format');
ok($sf->{speech_final} && $sf->{is_final} && !$sf->{from_finalize},
    'speech_final on its own, before any Finalize');
$ws->send_json({ type => 'Finalize' });
($final) = until_type($ws, 'Results');
is(transcript($final), '', 'the Finalize after it: nothing left');
ok($final->{from_finalize}, 'from_finalize');
my ($ue) = until_type($ws, 'UtteranceEnd');
ok($ue, 'utterance_end_ms: UtteranceEnd');
ok(!grep({ !$_->{is_final} } $sf, $final), 'no interim results without '
    . 'interim_results=true');

# a late final result

$fake->reset->final_delay(0.5);
$ws = open_ws($DG);
speak($ws, 5, 1);
my $t0 = time;
$ws->send_json({ type => 'Finalize' });
($final) = until_type($ws, 'Results');
cmp_ok(time - $t0, '>=', 0.4, 'final_delay: the final result comes late');
is(transcript($final), 'Hello.', 'default transcript');

# a drop mid-utterance, once; the utterance count goes on over
# connections

$fake->reset->transcripts('One.', 'Two.', 'Three.')->drop_after_bytes(800, 2);
$ws = open_ws($DG);
speak($ws, 5, 1);
$ws->send_json({ type => 'Finalize' });
($final) = until_type($ws, 'Results');
is(transcript($final), 'One.', 'the first utterance is answered');
speak($ws, 10, 1);
ok($ws->eof_within(5), 'drop_after_bytes: the second is cut');
ok($fake->wait_ended(0), 'ended');
is($fake->ended(0), 'drop', 'recorded as a drop');
is(length($fake->audio(0)), 800 + 800, 'at its nth byte');
$ws = open_ws($DG);
speak($ws, 10, 1);
$ws->send_json({ type => 'Finalize' });
($final) = until_type($ws, 'Results');
is(transcript($final), 'Three.', 'a new connection: the next transcript');
is($fake->ended(1), '', 'not dropped again');

# what a server rejects after the handshake

$fake->reset;
$ws = open_ws($DG);
$ws->send_frame(op => 2, mask => 0, payload => 'x' x 160);
($code) = $ws->read_close(5);
is($code, 1002, 'an unmasked frame: close 1002');
ok($fake->wait_ended(0), 'ended');
is($fake->ended(0), 'protocol error: unmasked frame', 'recorded');

$ws = open_ws($DG);
$ws->send_frame(op => 1, payload => "{\"type\":\"\xff\"}");
($code) = $ws->read_close(5);
is($code, 1007, 'text that is not UTF-8: close 1007');

$ws = open_ws($DG);
$ws->send_frame(op => 9, fin => 0, payload => 'x');
($code) = $ws->read_close(5);
is($code, 1002, 'a fragmented ping: close 1002');

# Deepgram's 10 s without data, shortened

$fake->reset->idle_timeout(1);
$ws = open_ws($DG);
my ($reason);
($code, $reason) = $ws->read_close(5);
is($code, 1011, 'idle: close 1011');
like($reason, qr/net0001/i, 'NET-0001');
ok($fake->wait_ended(0), 'ended');
is($fake->ended(0), 'idle', 'recorded as idle');

# OpenAI realtime transcription, the beta's events

$fake->reset->transcripts('Hello there friend.');
$ws = open_ws('/v1/realtime?intent=transcription',
    Authorization => 'Bearer k', 'OpenAI-Beta' => 'realtime=v1');
is($ws->status, 101, 'OpenAI: 101');
my $m = next_json($ws);
is($m->{type}, 'transcription_session.created',
    'first transcription_session.created');
is($m->{session}{input_audio_format}, 'pcm16', 'pcm16 until updated');
$ws->send_json({ type => 'transcription_session.update', session => {
    input_audio_format => 'g711_ulaw',
    input_audio_transcription => { model => 'gpt-4o-transcribe' },
    turn_detection => undef } });
$m = next_json($ws);
is($m->{type}, 'transcription_session.updated', 'updated');
is($m->{session}{input_audio_format}, 'g711_ulaw', 'to g711_ulaw');
ok(exists $m->{session}{turn_detection}
    && !defined $m->{session}{turn_detection}, 'turn_detection null');
is_deeply($fake->session(0), { format => 'g711_ulaw', turn_detection => undef,
    model => 'gpt-4o-transcribe', language => undef }, 'session recorded');

$ws->send_json({ type => 'input_audio_buffer.commit' });
$m = next_json($ws);
is($m->{error}{code}, 'input_audio_buffer_commit_empty',
    'commit of nothing: an error');

my $audio = join '', map { chr($_ % 256) x 160 } 1 .. 20;
for my $i (0 .. 19) {
    $ws->send_json({ type => 'input_audio_buffer.append',
        audio => encode_base64(substr($audio, $i * 160, 160), '') });
}
$ws->send_frame(op => 2, payload => 'x');
$m = next_json($ws);
is($m->{type}, 'error', 'a binary frame: an error event');
ok(!next_json($ws, 0.3), 'no deltas before the commit with gpt-4o-transcribe');
$ws->send_json({ type => 'input_audio_buffer.commit' });
my ($done, $before) = until_type($ws,
    'conversation.item.input_audio_transcription.completed');
is($before->[0]{type}, 'input_audio_buffer.committed', 'committed first');
my @d = grep { $_->{type} =~ /\.delta$/ } @$before;
is(join('', map { $_->{delta} } @d), 'Hello there friend.',
    'then the deltas, word by word');
is($done->{transcript}, 'Hello there friend.', 'then .completed');
is($done->{item_id}, $before->[0]{item_id}, 'of the committed item');
is($fake->audio(0), $audio, 'audio: the appends, decoded');
is_deeply([$fake->utterances(0)], ['', $audio], 'cut at each commit');
is(scalar $fake->finalizes(0), 2, 'both commits counted');
$ws->send_json({ type => 'no.such.event' });
is(next_json($ws)->{type}, 'error', 'an unknown event: an error event');
$ws->send_frame(op => 8, payload => pack 'n', 1000);
($code) = $ws->read_close(5);
is($code, 1000, 'close answered');

# OpenAI's current session.update; gpt-live-transcribe gives deltas as
# the audio comes

$fake->reset->transcripts('Hello there friend.')->interim_every(800);
$ws = open_ws('/v1/realtime?intent=transcription');
is(next_json($ws)->{type}, 'session.created', 'without the beta header: '
    . 'session.created');
$ws->send_json({ type => 'session.update', session => { type => 'transcription',
    audio => { input => { format => { type => 'audio/pcmu' },
        transcription => { model => 'gpt-live-transcribe' },
        turn_detection => undef } } } });
is(next_json($ws)->{type}, 'session.updated', 'session.updated');
is($fake->session(0)->{format}, 'g711_ulaw', 'audio/pcmu is g711_ulaw');
for my $i (1 .. 10) {
    $ws->send_json({ type => 'input_audio_buffer.append',
        audio => encode_base64(chr(1) x 160, '') });
}
@d = map { next_json($ws) } 1 .. 2;
is(join('', map { $_->{delta} } @d), 'Hello there',
    'deltas while the audio comes');
$ws->send_json({ type => 'input_audio_buffer.commit' });
($done, $before) = until_type($ws,
    'conversation.item.input_audio_transcription.completed');
is(join('', map { $_->{delta} // '' } @$before), ' friend.',
    'the commit gives the rest');
is($done->{transcript}, 'Hello there friend.', 'and the whole');

done_testing;
