#!/usr/bin/perl

# Provider requests as an operator writes their locations: a location
# that fails over to another provider with error_page, or hands the
# request on with try_files, still answers the turn.  Cancelling a
# request works at every stage: before it starts (it never reaches the
# provider), while it connects, mid-reply; nothing of it is left behind.
# A reply nginx put in a file is read a piece at a time, and no further
# once the call is over; a streamed provider's location that buffers is
# told once.  A failed request's line in the log has the start of the
# provider's error body, escaped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use List::Util qw(max);
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use VoiceTest;
use VoiceAudio qw(speak ulaw_linear);
use VoiceWS;
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;

# LeakSanitizer on: a provider request's pool left behind is a report in
# error.log at the worker's exit, which check_log fails on.  nginx 1.22
# keeps a PCRE2 compile context for good (the rewrite below): not ours.
if ($VoiceTest::ENV_PREFIX) {
    VoiceTest::spit("$dir/lsan.supp", "leak:pcre2_compile_context_create\n");
    $VoiceTest::ENV_PREFIX =~ s/detect_leaks=0/detect_leaks=1/;
    $VoiceTest::ENV_PREFIX .= "LSAN_OPTIONS=fast_unwind_on_malloc=0:"
        . "suppressions=$dir/lsan.supp ";
}
my $fake = FakeProvider->new(dir => "$dir/fake");
my $backup = FakeProvider->new(dir => "$dir/backup");
my $p = $fake->port;
my $backup_port = $backup->port;
my $closed = VoiceTest::free_port();

# A provider that never accepts: its backlog is full, so a connection to
# it stays in SYN-SENT until nginx gives up or closes it
my $blackhole = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
    LocalPort => 0) or die "listen: $!";
my $bh = $blackhole->sockport;
my @fillers = map {
    IO::Socket::INET->new(PeerAddr => "127.0.0.1:$bh") or die "connect: $!"
} 1 .. 2;

# a provider's error body that would forge a log line unescaped, and
# runs past the 200 bytes logged
my $forged = "oops\nvoice: forged line\r\n\x01\x1b[31m\xff\xfe"
    . ('x' x 250) . 'TAIL';
(my $forged_conf = $forged) =~ s/\n/\\n/g;
$forged_conf =~ s/\r/\\r/g;

# providers nginx plays: one that hands the request on to /_stt with
# X-Accel-Redirect, the files of the big replies, the forged error body
my $providers = <<'HTTP' . <<"BAD";
    server {
        listen 127.0.0.1:%%PORT2%%;

        location = /accel {
            add_header X-Accel-Redirect /_stt;
            return 200 "";
        }

        location /files/ {
            alias %%PREFIX%%/;
        }
HTTP
        location = /bad {
            return 500 "$forged_conf";
        }
    }
BAD

$t->run_agent($fake, <<"CONF", http => $providers);
        location /media/ {
            voice_media_stream agent;
        }

        # provider locations that send the request on

        location /failover/ {
            voice_media_stream agent;
            voice_stt /_stt_failover;
        }

        location /down/ {
            voice_media_stream agent;
            voice_stt /_stt_down;
        }

        location /handed-on/ {
            voice_media_stream agent;
            voice_stt /_stt_handed_on;
        }

        location /accel/ {
            voice_media_stream agent;
            voice_stt /_stt_accel;
        }

        # the provider's error statuses go to the backup provider
        location = /_stt_failover {
            internal;
            proxy_pass http://127.0.0.1:$p/stt;
            proxy_intercept_errors on;
            error_page 500 502 503 504 = \@stt_backup;
        }

        # nginx's own 502: the provider cannot be reached
        location = /_stt_down {
            internal;
            proxy_pass http://127.0.0.1:$closed/stt;
            error_page 502 504 = \@stt_backup;
        }

        # a named location's proxy_pass takes no URI: rewrite sets it
        location \@stt_backup {
            rewrite ^ /stt break;
            proxy_pass http://127.0.0.1:$backup_port;
        }

        # an internal redirect to the ordinary STT location
        location = /_stt_handed_on {
            internal;
            root $dir/none;
            try_files \$uri /_stt;
        }

        location = /_stt_accel {
            internal;
            proxy_pass http://127.0.0.1:%%PORT2%%/accel;
        }

        # cancelling: short endpointing, so a batch of audio holds a turn

        location /cancel/ {
            voice_media_stream agent;
            voice_vad_silence 200ms;
            voice_vad_min_speech 100ms;
        }

        location /slow/ {
            voice_media_stream agent;
            voice_vad_silence 200ms;
            voice_vad_min_speech 100ms;
            voice_stt /_stt_slow;
        }

        location = /_stt_slow {
            internal;
            proxy_pass http://127.0.0.1:$bh/stt;
            proxy_connect_timeout 30s;
        }

        # buffering: the LLM and TTS locations keep proxy_buffering on

        location /buffered/ {
            voice_media_stream agent;
            voice_llm /_llm_buffered;
            voice_tts /_tts_buffered;
        }

        location = /_llm_buffered {
            internal;
            proxy_pass http://127.0.0.1:$p/llm;
        }

        location = /_tts_buffered {
            internal;
            proxy_pass http://127.0.0.1:$p/tts;
        }

        # a greeting whose audio is big, with the worker's reads of its
        # temporary file and its writes to the caller in big.log
        # these two are about reading a file, not pacing: the whole reply
        # goes out as it is read, as it did before paced playout
        location /big/ {
            voice_media_stream agent;
            voice_greeting "Hello.";
            voice_tts /_tts_file;
            voice_max_pending 16m;
            voice_playout_lead 300s;
            error_log %%PREFIX%%/logs/error.log info;
            error_log %%PREFIX%%/logs/big.log debug;
        }

        # the same, to a caller who never reads
        # a small send buffer: the kernel cannot take in what a caller
        # that never reads leaves, so voice_max_pending has to
        listen 127.0.0.1:%%PORT3%% sndbuf=16k;

        location /stuck/ {
            voice_media_stream agent;
            voice_greeting "Hello.";
            voice_tts /_tts_huge;
            voice_max_pending 64k;
            voice_playout_lead 300s;
            error_log %%PREFIX%%/logs/error.log info;
            error_log %%PREFIX%%/logs/stuck.log debug;
        }

        # buffered in a few small buffers: nginx puts the rest of the
        # reply in a temporary file
        location = /_tts_file {
            internal;
            proxy_pass http://127.0.0.1:%%PORT2%%/files/big.ulaw;
            proxy_method GET;
            proxy_buffers 4 4k;
        }

        location = /_tts_huge {
            internal;
            proxy_pass http://127.0.0.1:%%PORT2%%/files/huge.ulaw;
            proxy_method GET;
            proxy_buffers 4 4k;
        }

        # a provider's error body

        location /bad/ {
            voice_media_stream agent;
            voice_stt /_stt_bad;
        }

        location = /_stt_bad {
            internal;
            proxy_pass http://127.0.0.1:%%PORT2%%/bad;
        }
CONF


# TTS audio that tells its bytes apart: 512 KiB, 64 s of μ-law; and 16
# MiB, more than the kernel's socket buffers take
my $big = join '', map { chr(($_ * 31 + ($_ >> 9)) & 0xff) } 0 .. 524287;
VoiceTest::spit("$dir/big.ulaw", $big);
VoiceTest::spit("$dir/huge.ulaw", $big x 32);

my $q = 'What are your opening hours today?';
speak("$dir/q.wav", $q, 150);

sub turn {
    my ($path) = @_;
    my ($rc, $out) = $t->call($path, "--play $dir/q.wav",
        '--silence-after 1500 --fast --drain-ms 3000');
    is($rc, 0, "$path: the call completes") or diag $out;
    return $out;
}

sub user_said {
    my @llm = $fake->json_requests('llm');
    return map { $_->{messages}[-1]{content} } @llm;
}

# error_page: the first provider answers 502, the backup the turn

$fake->reset->transcripts('From the first provider.')->fail(stt => 502)
    ->replies('Nine to five.');
$backup->reset->transcripts($q);
my $out = turn('/failover/a');
is(scalar $fake->requests('stt'), 1, 'error_page: the first provider asked');
is(scalar $backup->requests('stt'), 1, 'error_page: then the backup');
is_deeply([user_said()], [$q], 'error_page: the backup\'s transcript is used');
is_deeply([$fake->tts_texts], ['Nine to five.'],
    'error_page: the reply is spoken');
like($out, qr/, [1-9]\d* media messages/, 'error_page: the caller hears it');

# error_page on nginx's own 502: the first provider is down

$fake->reset->replies('Nine to five.');
$backup->reset->transcripts($q);
turn('/down/a');
is(scalar $backup->requests('stt'), 1, 'provider down: the backup asked');
is_deeply([user_said()], [$q], 'provider down: the backup\'s transcript');
is_deeply([$fake->tts_texts], ['Nine to five.'],
    'provider down: the reply is spoken');

# try_files: an internal redirect to /_stt

$fake->reset->transcripts($q)->replies('Nine to five.');
turn('/handed-on/a');
is(scalar $fake->requests('stt'), 1, 'try_files: the request reached /_stt');
is_deeply([user_said()], [$q], 'try_files: its transcript is used');

# X-Accel-Redirect: the first location's provider hands it on

$fake->reset->transcripts($q)->replies('Nine to five.');
turn('/accel/a');
is(scalar $fake->requests('stt'), 1,
    'X-Accel-Redirect: the request reached /_stt');
is_deeply([user_said()], [$q], 'X-Accel-Redirect: its transcript is used');

unlike($t->error_log, qr/stt provider .* failed/,
    'no turn was dropped');

# the backup fails too: its status is the turn's, and the call goes on

$fake->reset->fail(stt => 502);
$backup->reset->fail(stt => 503);
turn('/failover/b');
is(scalar $backup->requests('stt'), 1, 'both fail: the backup asked');
like($t->error_log,
    qr/stt provider "\/_stt_failover" failed with status 503, turn dropped/,
    'both fail: the backup\'s status logged');
is(scalar $fake->requests('llm'), 0, 'both fail: the turn is dropped');

# The caller played by hand.  A batch of media goes in one write, so the
# module reads it in one go: a request it starts and cancels within one
# batch has not started yet when it is cancelled (nginx starts posted
# requests once the read handler returns).

my ($loud, $quiet) = (0xff, 0xff);
for my $u (0 .. 255) {
    $loud = $u if abs(ulaw_linear($u) - 8000) < abs(ulaw_linear($loud) - 8000);
}

# media($c, tone => ms, quiet => ms, ..., and => bytes): one write
sub media {
    my ($c, @parts) = @_;
    my $bytes = '';
    while (my ($what, $ms) = splice @parts, 0, 2) {
        if ($what eq 'and') {
            $bytes .= $ms;
            next;
        }
        for (1 .. $ms / 20) {
            # a 400 Hz square wave or digital silence, 20 ms a message
            my $f = $what eq 'tone'
                ? join('', map { chr(($_ / 10) % 2 ? $loud : $loud ^ 0x80) }
                    0 .. 159)
                : chr($quiet) x 160;
            $bytes .= VoiceWS::frame(op => 1, payload => VoiceWS::encode(
                VoiceWS::media_msg($f, ++$c->{seq})));
        }
    }
    $c->send_raw($bytes);
}

sub twilio {
    my ($path, %a) = @_;
    my $c = VoiceWS->connect(port => $a{port} // $t->port, path => $path,
        $a{rcvbuf} ? (rcvbuf => $a{rcvbuf}) : ());
    is($c->status, 101, "$path: the media stream opens");
    $c->begin;
    media($c, quiet => 300);
    return $c;
}

# waits up to 5 s for cond
sub soon {
    my ($cond) = @_;
    for (1 .. 250) {
        return 1 if $cond->();
        sleep 0.02;
    }
    return 0;
}

# Twilio's hang-up: a stop message and the close frame
sub stop_and_close {
    my ($c) = @_;
    return VoiceWS::frame(op => 1, payload => VoiceWS::encode({
            event => 'stop', sequenceNumber => '' . ++$c->{seq},
            streamSid => 'MZ0123456789abcdef0123456789abcdef' }))
        . VoiceWS::frame(op => 8, payload => pack('n', 1000));
}

sub hang_up {
    my ($c, $sent) = @_;
    $c->send_raw(stop_and_close($c)) unless $sent;
    $c->read_close(5);
    close $c->socket;
}

# connections to the provider at port that are still connecting
sub connecting {
    my ($port) = @_;
    my $hex = sprintf '%04X', $port;
    open my $fh, '<', '/proc/net/tcp' or return 0;
    return scalar grep { (split)[2] =~ /:$hex$/ && (split)[3] eq '02' } <$fh>;
}

# before it starts: the caller goes on speaking in the same batch that
# ended the utterance; that STT request is cancelled before it runs

$fake->reset->transcripts($q)->replies('Nine to five.');
my $c = twilio('/cancel/went-on');
media($c, tone => 400, quiet => 240, tone => 400, quiet => 400);
ok(soon(sub { $fake->requests('llm') == 1 }), 'went on: the turn is answered');
hang_up($c);
is(scalar $fake->requests('stt'), 1,
    'went on: the cancelled request never reached the provider');
like($t->error_log, qr/caller went on speaking, utterance continues/,
    'went on: the utterance continued');

# before it starts: the caller hangs up in the batch that ended the
# utterance

$fake->reset->transcripts($q);
$c = twilio('/cancel/hang-up');
media($c, tone => 400, quiet => 240, and => stop_and_close($c));
hang_up($c, 'sent');
sleep 1;
is(scalar $fake->requests('stt'), 0,
    'hang-up: the request never reached the provider');

# while it connects: the provider does not accept, the caller goes on

$c = twilio('/slow/connecting');
media($c, tone => 400, quiet => 240);
ok(soon(sub { connecting($bh) == 1 }), 'connecting: the request connects');
media($c, tone => 400);
ok(soon(sub { connecting($bh) == 0 }),
    'connecting: cancelled, the connection is closed');
hang_up($c);

# mid-request: the provider has the request and does not answer

$fake->reset->transcripts($q)->hang_once('stt');
$c = twilio('/cancel/mid-request');
media($c, tone => 400, quiet => 240);
ok(soon(sub { $fake->requests('stt') == 1 }), 'mid-request: it is sent');
media($c, tone => 400);
ok($fake->closed('stt'), 'mid-request: cancelled, the connection is closed');
hang_up($c);

# a failed request's error line: the status and the first 200 bytes of
# the provider's body, escaped as in JSON (U+FFFD for what is not UTF-8)

$fake->reset;
turn('/bad/a');
my $logged = 'oops\nvoice: forged line\r\n\u0001\u001b[31m'
    . "\xef\xbf\xbd\xef\xbf\xbd" . ('x' x 167);
like($t->error_log, qr/\[error\].* voice: stt provider "\/_stt_bad" failed with status 500, turn dropped: "\Q$logged\E"(,| while)/,
    'error body: logged with the status, escaped, cut at 200 bytes');
unlike($t->error_log, qr/^voice: forged/m, 'error body: forges no line');
unlike($t->error_log, qr/TAIL/, 'error body: nothing past 200 bytes');
is(scalar(() = $t->error_log =~ /_stt_bad" failed/g), 1,
    'error body: one line for the failure');

my $json = '{\"error\":{\"message\":\"fake failure\",\"type\":\"x\"}}';

$fake->reset->transcripts($q)->fail(llm => 503);
turn('/media/llm-503');
like($t->error_log, qr/llm provider "\/_llm" failed with status 503, turn dropped: "\Q$json\E"/,
    'error body: the LLM\'s');

$fake->reset->transcripts($q)->replies('Nine to five.')->fail(tts => 500);
turn('/media/tts-500');
like($t->error_log, qr/tts provider "\/_tts" failed with status 500, sentence 0 dropped: "\Q$json\E"/,
    'error body: the TTS\'s');

# a streamed provider's location that buffers: told once per location

$fake->reset->transcripts($q)->replies('Sure. We open at nine.');
turn('/buffered/a');
turn('/buffered/b');
my @warn = $t->error_log =~ /\[warn\].*(voice: .* buffers .*)/g;
is(scalar(grep { /llm location "\/_llm_buffered"/ } @warn), 1,
    'buffered: the LLM location is told once');
is(scalar(grep { /tts location "\/_tts_buffered"/ } @warn), 1,
    'buffered: the TTS location is told once');
like($warn[0] // '', qr/set "proxy_buffering off" there/,
    'buffered: with the fix');
ok(!grep({ /"\/_stt"/ } @warn), 'buffered: not the STT location');
is_deeply([$fake->tts_texts], ['Sure.', 'We open at nine.', 'Sure.',
    'We open at nine.'], 'buffered: the replies still come');

# the caller's frames up to the first mark: (audio, mark)
sub heard {
    my ($c) = @_;
    my $audio = '';
    while (my ($op, $p) = $c->read_frame(10)) {
        next unless $op == 1;
        my $m = VoiceWS::decode_json_safe($p);
        return ($audio, $m) if ($m->{event} // '') eq 'mark';
        $audio .= VoiceWS::media_audio($p) if ($m->{event} // '') eq 'media';
    }
    return ($audio, undef);
}

# nginx's file reads ("read: fd, buf, size, offset") in the runs the
# worker made between two returns to its event loop
sub read_runs {
    my ($log) = @_;
    my (@runs, $n);
    for (split /\n/, $log) {
        if (/\bread: \d+, \S+, \d+, \d+/) {
            $n++;
        } elsif (/reply read on at the next turn/ && $n) {
            push @runs, $n;
            $n = 0;
        }
    }
    push @runs, $n if $n;
    return @runs;
}

# a reply nginx hands over as a file: all of it, in order, a piece at a
# time with writes to the caller in between

$c = twilio('/big/whole');
my ($audio, $mark) = heard($c);
ok($mark, 'file: the greeting is marked');
is(length $audio, length $big, 'file: all of it is heard');
ok($audio eq $big, 'file: byte for byte, in order');
hang_up($c);
my @runs = read_runs(VoiceTest::slurp("$dir/logs/big.log"));
cmp_ok(scalar @runs, '>', 1, 'file: read in more than one turn');
cmp_ok(max(@runs, 0), '<=', 16,
    'file: no turn reads over 64 KiB');

# the call ends while the file is read: reading stops there

$c = twilio('/stuck/never-reads', port => ($t->ports)[2], rcvbuf => 4096);
ok(soon(sub { $t->error_log =~ /peer is not reading/ }),
    'stuck: the call is closed');
close $c->socket;
my $stuck = VoiceTest::slurp("$dir/logs/stuck.log");
my ($after) = $stuck =~ /peer is not reading[^\n]*\n(.*)/s;
my $reads = () = ($after // '') =~ /\bread: \d+, \S+, \d+, \d+/g;
is($reads, 0, 'stuck: no read of the file after the call ended');
my $read = 0;
$read += $1 while $stuck =~ /\bread: \d+, \S+, (\d+), \d+/g;
cmp_ok($read, '<', 32 * length $big, 'stuck: the file is not read out');

$t->stop;

done_testing;
