#!/usr/bin/perl

# The offline demo providers (tools/providers/) on their own: real
# recognition of synthesized speech, in one request and live over
# Deepgram's WebSocket, the FAQ streamed as OpenAI SSE (its tool calls
# too), speech in every output format, bad requests answered, and two
# requests served at once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Digest::SHA qw(sha256_hex);
use VoiceAudio qw(wav ulaw_linear);
use VoiceWS;
use VoiceLog qw(log_is_clean);

my $bin = $ENV{VOICE_PROVIDERS}
    or plan skip_all => 'VOICE_PROVIDERS is not set: run with make test';

$SIG{ALRM} = sub { die "test timed out\n" };
alarm($ENV{VOICE_TEST_TIMEOUT} || 120);

my $dir = tempdir('voice-providers-XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{VOICE_KEEP});
my $log = "$dir/providers.log";

# a live stream closes after this long with neither audio nor a message
# (Deepgram's 10 s, shorter here to keep the suite fast)
my $idle = 1;

my $pid = fork // die "fork: $!";
if ($pid == 0) {
    exec $bin, '--listen', '127.0.0.1:0', '--port-file', "$dir/port",
        '--log', $log, '--word-delay', '20',
        '--listen-idle', $idle * 1000;
    die "exec $bin: $!";
}

my $port;
for (1 .. 200) {
    if (open my $fh, '<', "$dir/port") {
        $port = <$fh>;
        chomp $port if defined $port;
        last if $port;
    }
    sleep 0.05;
}
ok($port, 'listening on an ephemeral port, written to --port-file')
    or BAIL_OUT('voice-providers did not start: ' . slurp($log));

my $json = JSON::PP->new->utf8->canonical;

###############################################################################

sub slurp {
    open my $fh, '<:raw', $_[0] or return '';
    local $/;
    return <$fh>;
}

sub connect_ {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    return $s;
}

sub request_text {
    my (%a) = @_;
    my $ver = $a{version} || '1.1';
    my $req = "$a{method} $a{path} HTTP/$ver\r\nHost: localhost\r\n";
    $req .= "$_\r\n" for @{ $a{headers} || [] };
    $req .= 'Content-Length: ' . length($a{body}) . "\r\n"
        if defined $a{body};
    $req .= "Connection: close\r\n" unless $a{keep};
    return $req . "\r\n" . ($a{body} // '');
}

sub write_all {
    my ($s, $data) = @_;
    while (length $data) {
        my $n = syswrite($s, $data) // die "write: $!";
        substr($data, 0, $n, '');
    }
}

sub dechunk {
    my ($b) = @_;
    my ($out, $pos) = ('', 0);
    while ($b =~ /\G([0-9a-fA-F]+)\r\n/gc) {
        my $n = hex $1;
        $pos = pos($b);
        return ($out, 1) if $n == 0;
        return ($out, 0) if $pos + $n + 2 > length $b;
        $out .= substr($b, $pos, $n);
        $pos += $n;
        return ($out, 0) if substr($b, $pos, 2) ne "\r\n";
        pos($b) = $pos + 2;
    }
    return ($out, 0);
}

sub parse_response {
    my ($raw, $reads) = @_;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %h;
    for (split /\r\n/, $head // '') {
        $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    my $complete = 1;
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        ($body, $complete) = dechunk($body // '');
    }
    return { status => $status // 0, h => \%h, body => $body // '',
             reads => $reads, complete => $complete };
}

# one request on its own connection, read to the end
sub http {
    my $s = connect_();
    write_all($s, request_text(@_));
    my ($raw, $reads) = ('', 0);
    while (1) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $raw .= $buf;
        $reads++;
    }
    return parse_response($raw, $reads);
}

sub multipart {
    my ($boundary, @parts) = @_;
    my $body = '';
    while (@parts) {
        my ($name, $value) = splice @parts, 0, 2;
        my $file = $name eq 'file'
            ? "; filename=\"utterance.wav\"\r\nContent-Type: audio/wav" : '';
        $body .= "--$boundary\r\nContent-Disposition: form-data; "
            . "name=\"$name\"$file\r\n\r\n$value\r\n";
    }
    return $body . "--$boundary--\r\n";
}

sub stt {
    my ($wav, @more) = @_;
    my $b = 'voice-0123abcd';
    return http(method => 'POST', path => '/v1/audio/transcriptions',
        headers => ["Content-Type: multipart/form-data; boundary=$b"],
        body => multipart($b, file => $wav, model => 'whisper-1', @more));
}

sub tts {
    my ($format, $text) = @_;
    return http(method => 'POST',
        path => "/v1/text-to-speech/voice123/stream?output_format=$format",
        headers => ['Content-Type: application/json'],
        body => $json->encode({ text => $text, model_id => 'x' }));
}

sub chat {
    my ($text, %a) = @_;
    return http(method => 'POST', path => '/v1/chat/completions',
        version => $a{version},
        headers => ['Content-Type: application/json'],
        body => $json->encode({ model => 'demo',
            stream => ($a{stream} // 1) ? JSON::PP::true : JSON::PP::false,
            messages => [
                { role => 'system', content => 'You are a shop.' },
                { role => 'user', content => 'hello' },
                { role => 'assistant', content => 'Hi!' },
                { role => 'user', content => $text } ] }));
}

# SSE events: (the decoded JSON of each data line, saw [DONE])
sub sse {
    my ($body) = @_;
    my (@ev, $done);
    for my $e (split /\n\n/, $body) {
        next unless $e =~ /^data: (.*)$/s;
        if ($1 eq '[DONE]') { $done = 1; next; }
        push @ev, $json->decode($1);
    }
    return (\@ev, $done);
}

sub content {
    my ($ev) = @_;
    return join '', map { $_->{choices}[0]{delta}{content} // '' } @$ev;
}

sub ulaw_rms {
    my ($data) = @_;
    my ($sum, $n) = (0, 0);
    for my $b (unpack 'C*', $data) {
        my $v = ulaw_linear($b);
        $sum += $v * $v;
        $n++;
    }
    return $n ? sqrt($sum / $n) : 0;
}

# a transcript of 8 kHz μ-law audio from the batch endpoint
sub stt_ulaw {
    my ($ulaw) = @_;
    my $r = stt(wav(8000, pack 's<*', map { ulaw_linear($_) }
        unpack 'C*', $ulaw));
    return eval { $json->decode($r->{body})->{text} } // '';
}

# a question as a caller says it, with silence around: μ-law 8 kHz in
# whole 20 ms frames
sub spoken {
    my ($text, $before, $after) = @_;
    my $ulaw = ("\xff" x (8000 * ($before // 0.1)))
        . tts('ulaw_8000', $text)->{body}
        . ("\xff" x (8000 * ($after // 0.6)));
    return $ulaw . ("\xff" x ((160 - length($ulaw) % 160) % 160));
}

# a WebSocket to the live endpoint with these query parameters
sub listen_ws {
    my (%q) = @_;
    my %all = (encoding => 'mulaw', sample_rate => 8000, channels => 1, %q);
    return VoiceWS->connect(port => $port, path => '/v1/listen?'
        . join('&', map { "$_=$all{$_}" } sort keys %all));
}

# audio as binary frames of chunk bytes (20 ms: 160)
sub send_audio {
    my ($ws, $ulaw, $chunk) = @_;
    $chunk //= 160;
    for (my $i = 0; $i < length $ulaw; $i += $chunk) {
        $ws->send_frame(op => 2, payload => substr($ulaw, $i, $chunk));
    }
}

# the messages the server sends until it is quiet for a while, or
# until one of them is the last one expected
sub drain {
    my ($ws, $last) = @_;
    my @msgs;
    while (my ($op, $p) = $ws->read_frame($last ? 10 : 0.3)) {
        push @msgs, $op == 1 ? $json->decode($p) : { op => $op };
        last if $last && $last->($msgs[-1]);
    }
    return @msgs;
}

sub of_type { my $t = shift; return grep { ($_->{type} // '') eq $t } @_ }
sub transcript { return $_[0]{channel}{alternatives}[0]{transcript} // '' }
sub finals { return grep { $_->{is_final} } of_type('Results', @_) }

sub words_of {
    my ($ref, $hyp) = @_;
    my %h = map { $_ => 1 } split ' ', lc $hyp;
    return scalar grep { $h{$_} } split ' ', $ref;
}

###############################################################################

# TTS: ElevenLabs output formats

my $hello = 'Hello, and thanks for calling. How can I help you today?';

my $r = tts('ulaw_8000', $hello);
is($r->{status}, 200, 'tts ulaw_8000: 200');
is($r->{h}{'content-type'}, 'audio/basic', 'tts ulaw_8000: audio/basic');
like($r->{h}{'transfer-encoding'} // '', qr/chunked/,
    'tts to HTTP/1.1: chunked');
ok($r->{complete}, 'tts: the chunked body ends properly');
my $ulaw_len = length $r->{body};
cmp_ok($ulaw_len, '>', 16000, "tts ulaw_8000: over 2 s of audio ($ulaw_len)");
my $rms = ulaw_rms($r->{body});
cmp_ok($rms, '>', 1000, sprintf('tts ulaw_8000: speech energy (rms %.0f)',
    $rms));

$r = tts('pcm_16000', $hello);
is($r->{status}, 200, 'tts pcm_16000: 200');
is($r->{h}{'content-type'}, 'audio/pcm', 'tts pcm_16000: audio/pcm');
my $pcm_len = length $r->{body};
is($pcm_len % 2, 0, 'tts pcm_16000: whole samples');
my $ratio = $pcm_len / $ulaw_len;
ok($ratio > 3.2 && $ratio < 4.8,
    "tts pcm_16000: twice the samples of ulaw_8000, 2 bytes each ($ratio)");

my $tts_default = http(method => 'POST', path => '/v1/text-to-speech/abc',
    body => $json->encode({ text => $hello }));
is($tts_default->{h}{'content-type'}, 'audio/basic',
    'tts without output_format: ulaw_8000');
is(length $tts_default->{body}, $ulaw_len, 'tts: the same text, the same '
    . 'audio');

for my $f (qw(pcm_8000 pcm_22050 pcm_24000 pcm_44100 pcm_48000 alaw_8000)) {
    my ($rate) = $f =~ /(\d+)/;
    my $bytes = $f =~ /law/ ? 1 : 2;
    $r = tts($f, $hello);
    my $q = length($r->{body}) / ($ulaw_len * $rate / 8000 * $bytes);
    ok($r->{status} == 200 && $q > 0.9 && $q < 1.1, "tts $f: as long ($q)");
}

$r = tts('mp3_44100_128', $hello);
is($r->{status}, 400, 'tts mp3: 400, not made here');
like($r->{body}, qr/"error":\{"message":"output_format/,
    'tts mp3: an error object');

$r = http(method => 'POST', path => '/v1/text-to-speech/abc/stream',
    body => '{"text":""}');
is($r->{status}, 400, 'tts empty text: 400');

# OpenAI speech: 24 kHz PCM16LE

$r = http(method => 'POST', path => '/v1/audio/speech',
    body => $json->encode({ model => 'tts-1', input => $hello,
        voice => 'alloy', response_format => 'pcm' }));
is($r->{status}, 200, 'openai speech: 200');
is(length($r->{body}) % 2, 0, 'openai speech: whole samples');
$ratio = length($r->{body}) / $ulaw_len;
ok($ratio > 4.8 && $ratio < 7.2, "openai speech: 24 kHz PCM16 ($ratio)");

$r = http(method => 'POST', path => '/v1/audio/speech',
    body => $json->encode({ model => 'tts-1', input => 'Goodbye.',
        voice => 'alloy', response_format => 'wav' }));
ok(substr($r->{body}, 0, 4) eq 'RIFF'
    && unpack('V', substr($r->{body}, 24, 4)) == 24000,
    'openai speech wav: a 24 kHz WAV header first');

$r = http(method => 'POST', path => '/v1/audio/speech',
    body => $json->encode({ input => 'x', response_format => 'opus' }));
is($r->{status}, 400, 'openai speech opus: 400');

###############################################################################

# STT: what the module sends, a WAV of the caller at 8 kHz

my $q8 = tts('pcm_8000', 'what are your opening hours')->{body};
$r = stt(wav(8000, $q8), language => 'en');
is($r->{status}, 200, 'stt: 200');
is($r->{h}{'content-type'}, 'application/json', 'stt: json');
my $text = eval { $json->decode($r->{body})->{text} } // '';
cmp_ok(words_of('what are your opening hours', $text), '>=', 3,
    "stt 8 kHz: recognized \"$text\"");
like($text, qr/opening|hours/, 'stt 8 kHz: the FAQ keyword is there');

my $q16 = tts('pcm_16000', 'where are you located')->{body};
$r = stt(wav(16000, $q16), response_format => 'text');
is($r->{h}{'content-type'}, 'text/plain; charset=utf-8',
    'stt response_format text: text/plain');
cmp_ok(words_of('where are you located', $r->{body}), '>=', 3,
    "stt 16 kHz: recognized \"$r->{body}\"");

$r = stt(wav(8000, "\0\0" x 8000));
is($r->{status}, 200, 'stt of silence: 200');

# malformed bodies

$r = http(method => 'POST', path => '/v1/audio/transcriptions',
    headers => ['Content-Type: multipart/form-data; boundary=xyz'],
    body => "--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
        . 'RIFF and then nothing');
is($r->{status}, 400, 'stt multipart without its closing delimiter: 400');
like($r->{body}, qr/^\{"error":\{"message":"malformed multipart/,
    'stt malformed: an error object');

$r = http(method => 'POST', path => '/v1/audio/transcriptions',
    headers => ['Content-Type: multipart/form-data'], body => 'x');
is($r->{status}, 400, 'stt without a boundary: 400');

$r = http(method => 'POST', path => '/v1/audio/transcriptions',
    headers => ['Content-Type: application/json'], body => '{}');
is($r->{status}, 400, 'stt not multipart: 400');

my $b = 'bb';
$r = http(method => 'POST', path => '/v1/audio/transcriptions',
    headers => ["Content-Type: multipart/form-data; boundary=\"$b\""],
    body => multipart($b, model => 'x'));
is($r->{status}, 400, 'stt without a file part: 400');

$r = http(method => 'POST', path => '/v1/audio/transcriptions',
    headers => ["Content-Type: multipart/form-data; boundary=$b"],
    body => multipart($b, file => 'RIFF....WAVEfmt garbage'));
is($r->{status}, 400, 'stt with a file that is no WAV: 400');
like($r->{body}, qr/not a PCM16/, 'stt no WAV: says so');

###############################################################################

# STT live: Deepgram's WebSocket, pocketsphinx as the audio arrives

my $question = spoken('what are your opening hours');
my $question_s = length($question) / 8000;
my $batch = stt_ulaw($question);

my $ws = listen_ws(interim_results => 'true', endpointing => 'false',
    vad_events => 'true');
is($ws->status, 101, 'listen: 101 Switching Protocols');
is($ws->headers->{'sec-websocket-accept'}, $ws->expected_accept,
    'listen: Sec-WebSocket-Accept is base64(SHA-1(key + GUID))');
my $request_id = $ws->headers->{'dg-request-id'} // '';
like($request_id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}
    -[0-9a-f]{12}$/x, 'listen: a dg-request-id header, a UUID');

# a question in 20 ms frames: speech noticed, hypotheses on the way

send_audio($ws, $question);
my @msgs = drain($ws);
my @interim = grep { !$_->{is_final} } of_type('Results', @msgs);
is(($msgs[0] // {})->{type}, 'SpeechStarted', 'vad_events: SpeechStarted '
    . 'comes first');
my $started = (of_type('SpeechStarted', @msgs))[0] // {};
ok(defined $started->{timestamp} && $started->{timestamp} > 0.05
    && $started->{timestamp} < 0.4, 'SpeechStarted: at the speech, after '
    . "the 100 ms of silence ($started->{timestamp})");
is_deeply($started->{channel}, [0, 1], 'SpeechStarted: channel [0, 1]');
cmp_ok(scalar @interim, '>=', 2, 'interim results before Finalize ('
    . scalar(@interim) . ')');
is(scalar finals(@msgs), 0, 'no final result before Finalize, with '
    . 'endpointing=false');
my %seen;
ok(!grep({ $seen{transcript($_)}++ } @interim),
    'each interim result is a new hypothesis');
like(transcript($interim[-1] // {}), qr/^what are your/,
    'the last interim result has the question\'s start ('
    . transcript($interim[-1] // {}) . ')');
ok(!grep({ $_->{speech_final} || $_->{from_finalize} } @interim),
    'interim results: speech_final and from_finalize false');

# Finalize: the utterance as the batch endpoint transcribes it

$ws->send_json({ type => 'Finalize' });
@msgs = drain($ws, sub { $_[0]{is_final} });
push @msgs, drain($ws);
my @final = finals(@msgs);
is(scalar @final, 1, 'Finalize: one final result');
my $f = $final[0] // {};
ok($f->{from_finalize} && !$f->{speech_final},
    'Finalize: from_finalize true, speech_final false');
is(transcript($f), $batch, "Finalize: the batch endpoint's transcript of "
    . "the same audio (\"$batch\")");
like($batch, qr/opening hours/, 'and it is the question');
is_deeply($f->{channel_index}, [0, 1], 'Results: channel_index [0, 1]');
ok($f->{start} == 0 && abs($f->{duration} - $question_s) < 0.001,
    "Results: start 0, duration all the audio ($f->{duration} s)");
my @words = @{ $f->{channel}{alternatives}[0]{words} // [] };
is(join(' ', map { $_->{word} } @words), $batch,
    'Results: the words spell the transcript');
ok(!grep({ $_->{start} < 0 || $_->{end} <= $_->{start}
        || $_->{end} > $question_s } @words)
    && !grep({ $words[$_]{start} < $words[$_ - 1]{end} - 0.02 } 1 .. $#words),
    'Results: word times in order, within the audio');
my $conf = $f->{channel}{alternatives}[0]{confidence} // -1;
ok($conf > 0 && $conf <= 1, "Results: a confidence ($conf)");
is($f->{metadata}{request_id}, $request_id,
    'Results: metadata.request_id is the handshake\'s');

# CloseStream: the summary, then close 1000

$ws->send_json({ type => 'CloseStream' });
my ($code, $reason, $rest) = $ws->read_close(5);
my ($meta) = of_type('Metadata', @$rest);
is($code, 1000, 'CloseStream: close 1000');
ok($meta && $meta->{request_id} eq $request_id
    && abs($meta->{duration} - $question_s) < 0.001 && $meta->{channels} == 1,
    'CloseStream: Metadata of the request, its audio\'s duration');
is($meta->{sha256}, sha256_hex($question),
    'Metadata: sha256 of the audio sent');
is(scalar finals(@$rest), 0, 'CloseStream: no final left to send');
$ws->send_frame(op => 8, payload => pack('n', 1000));
my $t0 = time;
ok($ws->eof_within(2) && time - $t0 < 0.5,
    'the closing handshake done, the server closes the connection');

# the same through the language model: words outside the FAQ, in 100 ms
# chunks this time

my $other = spoken('the weather is lovely today');
$ws = listen_ws(interim_results => 'true', endpointing => 'false');
send_audio($ws, $other, 800);
$ws->send_json({ type => 'CloseStream' });
($code, $reason, $rest) = $ws->read_close(10);
my $other_batch = stt_ulaw($other);
is(join('|', map { transcript($_) } finals(@$rest)), $other_batch,
    "outside the FAQ, sent in 100 ms: the batch endpoint's transcript "
    . "(\"$other_batch\")");
like(slurp($log), qr/search=lm faq=\S+ text="\Q$other_batch\E"/,
    'and that one is the language model\'s, not the grammar\'s');
is($code, 1000, 'CloseStream with audio pending: its final, then 1000');

# endpointing: the pause after each question ends it, speech_final

my $two = spoken('where are you located', 0.1, 1.2)
    . spoken('how much does it cost', 0, 1.5);
$ws = listen_ws(endpointing => 300, utterance_end_ms => 1000,
    interim_results => 'true', vad_events => 'true');
send_audio($ws, $two);
my $ue = 0;
@msgs = drain($ws,
    sub { ($_[0]{type} // '') eq 'UtteranceEnd' && ++$ue == 2 });
push @msgs, drain($ws);
@final = finals(@msgs);
is(join('|', map { transcript($_) } @final),
    'where are you located|how much does it cost',
    'endpointing=300: a final result for each question');
ok(@final == 2 && !grep({ !$_->{speech_final} || $_->{from_finalize} }
    @final), 'endpointing: speech_final true, from_finalize false');
ok(@final == 2 && $final[1]{start} == $final[0]{start} + $final[0]{duration},
    'a final result starts where the one before ended');
is(scalar of_type('SpeechStarted', @msgs), 2,
    'SpeechStarted: once for each question');
my @ends = of_type('UtteranceEnd', @msgs);
is(scalar @ends, 2, 'utterance_end_ms=1000: an UtteranceEnd after each');
my $last_end = (@final == 2 && @{ $final[1]{channel}{alternatives}[0]{words} })
    ? $final[1]{channel}{alternatives}[0]{words}[-1]{end} : -1;
ok(@ends == 2 && abs($ends[1]{last_word_end} - $last_end) < 0.3,
    "UtteranceEnd: last_word_end at the end of the last word ($last_end)");
my @order = map { $_->{type} . ($_->{is_final} ? ' final' : '') }
    grep { $_->{is_final} || ($_->{type} // '') ne 'Results' } @msgs;
is("@order", 'SpeechStarted Results final UtteranceEnd SpeechStarted '
    . 'Results final UtteranceEnd', 'UtteranceEnd comes after the final');

# without endpointing, UtteranceEnd tells that the caller stopped: once,
# before the final result, and not again for the final's words

$ws = listen_ws(interim_results => 'true', endpointing => 'false',
    utterance_end_ms => 1000);
send_audio($ws, spoken('thank you goodbye', 0.1, 1.5));
$ws->send_json({ type => 'Finalize' });
send_audio($ws, "\xff" x 16000);
$ws->send_json({ type => 'CloseStream' });
($code, $reason, $rest) = $ws->read_close(5);
@order = map { $_->{type} . ($_->{is_final} ? ' final' : '') }
    grep { $_->{is_final} || ($_->{type} // '') ne 'Results' } @$rest;
is("@order", 'UtteranceEnd Results final Results final Metadata',
    'endpointing=false: UtteranceEnd once, then Finalize\'s final, then '
    . 'CloseStream\'s');
is(join('|', map { transcript($_) } finals(@$rest)), 'thank you goodbye|',
    'the first final has the words, the second only silence');

# the default endpointing too

$ws = listen_ws();
send_audio($ws, $two);
my $n = 0;
@final = finals(drain($ws, sub { $_[0]{is_final} && ++$n == 2 }), drain($ws));
is(join('|', map { transcript($_) } @final),
    'where are you located|how much does it cost',
    'default endpointing: whole questions, not cut at their consonants');
$ws->send_frame(op => 8, payload => pack('n', 1000));
($code) = $ws->read_close(3);
is($code, 1000, 'a close from the client is answered with its code');

# KeepAlive holds an idle stream open; without it, 1011 NET-0001

$ws = listen_ws();
$t0 = time;
while (time - $t0 < 2 * $idle) {
    $ws->send_json({ type => 'KeepAlive' });
    sleep $idle / 3;
}
ok(!$ws->eof_within($idle / 3), 'KeepAlive: open after twice the idle limit');
$ws->send_frame(op => 9, payload => 'are you there');
my ($op, $payload) = $ws->read_frame(2);
ok(defined $op && $op == 10 && $payload eq 'are you there',
    'a ping is answered with a pong of its payload');
$ws->send_json({ type => 'Finalize' });
is(scalar drain($ws), 0, 'Finalize with no audio: no result to give');
$ws->send_json({ type => 'CloseStream' });
($code, $reason, $rest) = $ws->read_close(3);
ok($code == 1000 && !finals(@$rest) && of_type('Metadata', @$rest),
    'CloseStream without audio: Metadata, no result, close 1000');

$ws = listen_ws();
$t0 = time;
($code, $reason) = $ws->read_close($idle + 3);
my $waited = time - $t0;
ok(($code // 0) == 1011 && ($reason // '') eq 'NET-0001',
    'no audio, no KeepAlive: close 1011 NET-0001, as Deepgram');
ok($waited > $idle - 0.2 && $waited < $idle + 1,
    sprintf('after the idle limit (%.1f s)', $waited));

# an empty binary frame: how Deepgram's clients closed before CloseStream

$ws = listen_ws();
$ws->send_frame(op => 2, payload => '');
($code, $reason, $rest) = $ws->read_close(3);
ok($code == 1000 && of_type('Metadata', @$rest),
    'an empty binary frame: Metadata, close 1000');

# the handshakes refused: not μ-law, not 8 kHz, not a WebSocket

$ws = listen_ws(encoding => 'linear16', sample_rate => 16000);
is($ws->status, 400, 'encoding=linear16: 400');
like($ws->headers->{'dg-error'} // '', qr/linear16.*only mulaw/,
    'encoding=linear16: a dg-error header says why');
my $body = $ws->read_until("}\n", 2) // '';
like($body, qr/^\{"err_code":"Bad Request","err_msg":"encoding \\"linear16\\"/,
    'encoding=linear16: and a JSON body');
is(listen_ws(sample_rate => 16000)->status, 400, 'sample_rate=16000: 400');
is(VoiceWS->connect(port => $port, path => '/v1/listen')->status, 400,
    'no encoding (a container Deepgram would sniff): 400');
is(listen_ws(utterance_end_ms => 1000)->status, 400,
    'utterance_end_ms without interim_results: 400');
is(listen_ws(endpointing => 'soon')->status, 400, 'endpointing=soon: 400');
is(VoiceWS->connect(port => $port, path => '/v1/listen?encoding=mulaw',
    headers => { 'Sec-WebSocket-Version' => 8 })->status, 426,
    'Sec-WebSocket-Version 8: 426');
$r = http(method => 'GET', path => '/v1/listen?encoding=mulaw');
ok($r->{status} == 426 && ($r->{h}{upgrade} // '') eq 'websocket',
    'plain GET: 426 Upgrade Required, Upgrade: websocket');

# frames that break the protocol

$ws = listen_ws();
$ws->send_frame(op => 2, payload => "\xff" x 160, mask => 0);
($code) = $ws->read_close(3);
is($code, 1002, 'an unmasked frame: close 1002');
$ws = listen_ws();
$ws->send_frame(op => 1, payload => "\xc3\x28");
($code) = $ws->read_close(3);
is($code, 1007, 'text that is not UTF-8: close 1007');

###############################################################################

# LLM: streamed word by word

$r = chat('What are your opening hours?');
is($r->{status}, 200, 'chat: 200');
is($r->{h}{'content-type'}, 'text/event-stream', 'chat: text/event-stream');
my ($ev, $done) = sse($r->{body});
is($ev->[0]{choices}[0]{delta}{role}, 'assistant', 'chat: role first');
is($ev->[0]{object}, 'chat.completion.chunk', 'chat: chunk objects');
my $said = content($ev);
like($said, qr/opening hours.*Monday/, "chat: the hours ($said)");
like($said, qr/[.!?]$/, 'chat: ends a sentence');
cmp_ok(scalar @$ev, '>', 10, 'chat: many events, word by word');
is($ev->[-1]{choices}[0]{finish_reason}, 'stop', 'chat: finish_reason stop');
ok($done, 'chat: data: [DONE] at the end');
cmp_ok($r->{reads}, '>', 3, "chat: the events came over time ($r->{reads} "
    . 'reads)');

($ev) = sse(chat('Can I bring my dog along')->{body});
is(content($ev), 'You said: Can I bring my dog along? Could you tell me '
    . 'more?', 'chat: an unknown question is echoed as a question');

($ev) = sse(chat('[caller pressed 5]')->{body});
like(content($ev), qr/^You pressed 5\. .*refund/, 'chat: a keypad digit');

($ev) = sse(chat('um where is the uh store located')->{body});
like(content($ev), qr/Market Street/, 'chat: location among other words');

($ev) = sse(chat("quote \" backslash \\ \x{e9}t\x{e9}")->{body});
like(content($ev), qr/quote " backslash \\ \x{e9}t\x{e9}\?/,
    'chat: the echo is escaped JSON, UTF-8 intact');

$r = chat('how much does it cost', stream => 0);
my $whole = eval { $json->decode($r->{body}) } // {};
like($whole->{choices}[0]{message}{content} // '', qr/dollars/,
    'chat without stream: one chat.completion');

# HTTP/1.0, as nginx's proxy speaks by default: no chunks, then close

$r = chat('thank you goodbye', version => '1.0');
ok(!exists $r->{h}{'transfer-encoding'}, 'chat to HTTP/1.0: not chunked');
is($r->{h}{connection}, 'close', 'chat to HTTP/1.0: Connection: close');
($ev, $done) = sse($r->{body});
ok($done && content($ev) =~ /Goodbye!$/, 'chat to HTTP/1.0: whole stream');

# function calling, as OpenAI streams it: the words, then the call (id,
# type and name first, the arguments in pieces), finish_reason
# "tool_calls"; and an answer to the results

my @tools = (
    { type => 'function', function => { name => 'check_order',
        parameters => { type => 'object', properties => {
            order_number => { type => 'string' } } } } },
    { type => 'function', function => { name => 'end_call',
        parameters => { type => 'object', properties => {} } } },
    { type => 'function', function => { name => 'transfer_call',
        parameters => { type => 'object', properties => { destination => {
            type => 'string', enum => [qw(team desk)] } } } } });

sub chat_tools {
    my (@messages) = @_;
    return http(method => 'POST', path => '/v1/chat/completions',
        headers => ['Content-Type: application/json'],
        body => $json->encode({ model => 'demo', stream => JSON::PP::true,
            messages => \@messages, tools => \@tools }));
}

# the call put back together from its events, as a client does
sub calls {
    my ($ev) = @_;
    my @c;
    for my $e (@$ev) {
        for my $t (@{ $e->{choices}[0]{delta}{tool_calls} || [] }) {
            my $c = $c[ $t->{index} ] //= { arguments => '' };
            $c->{id} //= $t->{id};
            $c->{name} //= $t->{function}{name};
            $c->{arguments} .= $t->{function}{arguments} // '';
        }
    }
    return @c;
}

($ev, $done) = sse(chat_tools({ role => 'user',
    content => 'where is my order number one two three four' })->{body});
is(content($ev), 'Let me look that up.', 'tools: words before the call');
my @calls = calls($ev);
is(scalar @calls, 1, 'tools: one call');
is($calls[0]{name}, 'check_order', 'tools: the order looked up');
is($calls[0]{arguments}, '{"order_number":"1234"}',
    'tools: with the digits said, the arguments put back together');
like($calls[0]{id} // '', qr/^call_/, 'tools: the call has an id');
cmp_ok(scalar(grep { $_->{choices}[0]{delta}{tool_calls} } @$ev), '>', 3,
    'tools: the arguments in pieces');
is($ev->[-1]{choices}[0]{finish_reason}, 'tool_calls',
    'tools: finish_reason tool_calls');
ok($done, 'tools: [DONE]');

($ev) = sse(chat_tools({ role => 'user', content => 'where is my order' },
    { role => 'assistant', content => undef, tool_calls => [ { id => 'c1',
        type => 'function', function => { name => 'check_order',
            arguments => '{}' } } ] },
    { role => 'tool', tool_call_id => 'c1', content =>
        '{"order_number":"42","status":"ready to collect"}' })->{body});
is(content($ev), 'Order 42 is ready to collect. Anything else?',
    'tools: the result answered');
is($ev->[-1]{choices}[0]{finish_reason}, 'stop', 'tools: and no call');

($ev) = sse(chat_tools({ role => 'user', content => 'thank you goodbye' })
    ->{body});
like(content($ev), qr/Goodbye!$/, 'tools: the goodbye said');
is(join(',', map { $_->{name} } calls($ev)), 'end_call', 'tools: end_call');

($ev) = sse(chat_tools({ role => 'user',
    content => 'can i speak to a person' })->{body});
@calls = calls($ev);
is($calls[0]{name}, 'transfer_call', 'tools: a person asked for');
is($calls[0]{arguments}, '{"destination":"team"}',
    'tools: to the first destination offered');

($ev) = sse(chat('where is my order')->{body});
ok(!calls($ev), 'no tools offered: no call');

$r = http(method => 'POST', path => '/v1/chat/completions',
    body => '{"messages": [');
is($r->{status}, 400, 'chat with broken JSON: 400');

$r = http(method => 'POST', path => '/v1/chat/completions',
    body => '{"messages":' . ('[' x 5000) . (']' x 5000) . '}');
is($r->{status}, 400, 'chat with JSON nested 5000 deep: 400');

$r = http(method => 'POST', path => '/v1/chat/completions',
    body => '{"messages":"hi"}');
is($r->{status}, 400, 'chat with messages not an array: 400');

###############################################################################

# HTTP

is(http(method => 'POST', path => '/v2/nothing', body => '')->{status}, 404,
    'unknown path: 404');
$r = http(method => 'GET', path => '/v1/chat/completions');
is($r->{status}, 405, 'GET: 405');
is($r->{h}{allow}, 'POST', '405 says Allow: POST');

$r = http(method => 'POST', path => '/v1/chat/completions',
    headers => ['X-Big: ' . ('a' x 20000)], body => '{}');
is($r->{status}, 431, 'a header over 16 KiB: 431');

$r = http(method => 'POST', path => '/v1/chat/completions',
    headers => ['Content-Length: 99999999999']);
is($r->{status}, 413, 'a body over 16 MiB: 413');

$r = http(method => 'POST', path => '/v1/chat/completions',
    headers => ['Transfer-Encoding: chunked']);
is($r->{status}, 411, 'a chunked request body: 411');

{
    my $s = connect_();
    write_all($s, "GARBAGE\r\n\r\n");
    local $/;
    like(<$s> // '', qr{^HTTP/1\.1 400 }, 'a request line of garbage: 400');
}

# keep-alive: three requests on one connection, written at once

{
    my $s = connect_();
    my $one = request_text(method => 'POST', path => '/v1/chat/completions',
        keep => 1, body => '{"messages":[{"role":"user","content":"hi"}]}');
    my $last = request_text(method => 'POST', path => '/v1/chat/completions',
        body => '{"messages":[{"role":"user","content":"bye"}]}');
    write_all($s, $one . $one . $last);
    local $/;
    my $all = <$s> // '';
    my @st = $all =~ m{^HTTP/1\.1 (\d+)}mg;
    is("@st", '200 200 200',
        'keep-alive requests written at once: all answered');
}

###############################################################################

# two at once: a TTS whose client reads slowly does not hold up an STT

{
    my $long = join ' ', ('This is a long sentence of the test.') x 40;
    my $s = connect_();
    write_all($s, request_text(method => 'POST',
        path => '/v1/text-to-speech/v/stream?output_format=pcm_48000',
        body => $json->encode({ text => $long })));

    # the headers and the first audio: the synthesis is under way
    my $got = '';
    while ($got !~ /\r\n\r\n.{1000}/s) {
        sysread($s, my $buf, 4096) or last;
        $got .= $buf;
    }
    like($got, qr{^HTTP/1\.1 200 }, 'slow tts: started');

    # 80 s of 48 kHz audio, 7.7 MB, take espeak-ng a while, and the
    # socket may fill up as we do not read: the STT, sent now, is served
    # while the TTS is still under way, and finishes first
    my $stt = stt(wav(8000, $q8));
    my $stt_text = eval { $json->decode($stt->{body})->{text} } // '';
    ok($stt->{status} == 200 && $stt_text =~ /opening|hours/,
        "an STT during the TTS is served ($stt_text)");

    my $raw = $got;
    while (1) {
        my $n = sysread($s, my $buf, 1 << 20);
        last unless $n;
        $raw .= $buf;
    }
    my $tts = parse_response($raw, 0);
    ok($tts->{complete} && length($tts->{body}) > 7_000_000,
        'and the TTS goes on to its end after it ('
        . length($tts->{body}) . ' bytes)');

    my @order = grep { m{POST /v1/(audio/transcriptions|text-to-speech/v/)} }
        split /\n/, slurp($log);
    like($order[-2] // '', qr/transcriptions/,
        'the log: the STT finished first');
    like($order[-1] // '', qr/text-to-speech/, 'the log: then the TTS');
}

###############################################################################

# the log and a clean exit

my $text_log = slurp($log);
like($text_log, qr{POST\ /v1/chat/completions\ 200\ \d+\ bytes\ \d+\ ms
    \ user="What\ are\ your\ opening\ hours\?"\ reply="Our\ opening}x,
    'log: the LLM line has the reply');
like($text_log, qr{POST\ /v1/audio/transcriptions\ 200\ \d+\ bytes\ \d+\ ms
    .*\ text="[a-z\ ]*open}x, 'log: the STT line has the transcript');
like($text_log, qr{GET\ /v1/listen\?\S+\ 101\ \d+\ bytes\ \d+\ ms
    \ final="what\ are\ your\ opening\ hours"\ request_id=$request_id}x,
    'log: the live stream\'s line has its final transcript');
like($text_log, qr{POST\ /v1/text-to-speech/voice123/stream
    \?output_format=ulaw_8000\ 200\ \d+\ bytes\ \d+\ ms
    \ text="Hello,\ and\ thanks}x, 'log: the TTS line has the text');
unlike($text_log, qr/exited on signal/, 'log: no child crashed');

kill 'TERM', $pid;
my $gone;
for (1 .. 100) {
    if (waitpid($pid, WNOHANG) == $pid) {
        $gone = 1;
        last;
    }
    sleep 0.05;
}
ok($gone && $? == 0, 'SIGTERM: exits 0');
like(slurp($log), qr/exiting\n\z/, 'log: exiting, last');
log_is_clean(slurp($log), 'the log is clean');

done_testing();
