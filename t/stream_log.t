#!/usr/bin/perl

# What the peer sends reaches error.log escaped: a call or stream SID, a
# media encoding or a Host header with a newline, quotes, backslashes or
# other bytes outside printable ASCII is written as \xHH, so no value can
# end a log line early or forge one.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(twilio_signature);
use VoiceWS;

my $t = VoiceTest->new;

$t->run(<<'CONF');
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location /echo {
            voice_media_stream echo;
        }

        location /signed {
            voice_twilio_auth_token tok3n;
            voice_media_stream echo;
        }
    }
CONF

my $port = $t->port;

# a line of its own, as nginx writes one, behind a newline
my $forged = '2030/01/01 00:00:00 [info] 1#1: x';

sub forged_lines {
    return grep { /^\Q2030\/01\/01\E/ } split /\n/, $t->error_log;
}

# call and stream SIDs, on "started" and "stopped"

my $call = "CA1\n$forged \"q\" \\b\r\x01\x7f\xc3\xa9";
my $c = VoiceWS->connect(port => $port, path => '/echo');
$c->begin(call => $call, stream => "MZ\"1\"\n");
$c->send_json({ event => 'stop', sequenceNumber => '2',
    streamSid => "MZ\"1\"\n" });
my ($code) = $c->read_close(5);
is($code, 1000, 'the call with odd SIDs runs and stops');

my $escaped = 'CA1\x0a' . $forged . ' \x22q\x22 \x5cb\x0d\x01\x7f\xc3\xa9';
like($t->error_log,
    qr/voice: call "\Q$escaped\E" stream "MZ\\x221\\x22\\x0a" started/,
    'the SIDs are logged escaped when the call starts');
like($t->error_log, qr/voice: call "\Q$escaped\E" stopped/,
    'and when it stops');

# the media encoding of a refused "start"

$c = VoiceWS->connect(port => $port, path => '/echo');
$c->send_json(VoiceWS::start_msg(format => { encoding => "audio/l16\n$forged",
    sampleRate => 8000, channels => 1 }));
($code) = $c->read_close(5);
is($code, 1003, 'an unsupported encoding is refused');
like($t->error_log,
    qr/unsupported media format "audio\/l16\\x0a\Q$forged\E" 8000 Hz/,
    'the encoding is logged escaped');

# the URL a wrong signature was checked against holds the Host header

$c = VoiceWS->connect(port => $port, path => '/signed/s1',
    host => 'lo"cal\\host', headers => {
        'X-Twilio-Signature' => twilio_signature('wrong', 'ws://x/signed/s1')
    });
is($c->status, 403, 'a wrong signature is refused');
like($t->error_log,
    qr/X-Twilio-Signature does not match "ws:\/\/lo\\x22cal\\x5chost\/signed\/s1"/,
    'the URL is logged escaped');

is(scalar(forged_lines()), 0, 'no line was forged in error.log')
    or diag join "\n", forged_lines();

$t->stop;

done_testing;
