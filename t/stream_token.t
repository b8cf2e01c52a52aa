#!/usr/bin/perl

# A media stream belongs to a call: with voice_twilio_auth_token the
# webhook's TwiML carries a voiceToken for its CallSid, and a "start"
# whose token is missing, expired, tampered with or for another call, or
# whose account is not voice_twilio_account_sid, is closed with 1008
# before any provider request.  voice_stream_token off turns it off.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(http_request twilio_signature stream_token);
use VoiceWS;
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

my $auth = 's3cret';
my $account = 'AC0123456789abcdef0123456789abcdef';

$t->run_agent($fake, <<"CONF");
        voice_twilio_auth_token $auth;
        voice_greeting "Hello.";

        location ~ ^/hook/(?<id>[A-Za-z0-9]+)\$ {
            voice_twiml;
            voice_stream_url ws://\$http_host/media/\$id;
            voice_stream_parameter id \$id;
        }

        location /long/ {
            voice_twiml;
            voice_stream_token_lifetime 10m;
            voice_stream_url ws://\$http_host/media/long;
        }

        location /hook-off/ {
            voice_twiml;
            voice_stream_token off;
            voice_stream_url ws://\$http_host/open/x;
        }

        location /media/ {
            voice_media_stream;
            voice_twilio_account_sid $account;
        }

        location /open/ {
            voice_media_stream;
            voice_stream_token off;
            voice_twilio_account_sid $account;
        }

        location ~ ^/simhook/(?<id>[A-Za-z0-9]+)\$ {
            voice_twiml;
            voice_stream_url ws://\$http_host/sim/\$id;
        }

        location /sim/ {
            voice_media_stream;
        }
CONF

my $port = $t->port;

sub form {
    my @kv = @_;
    my @out;
    while (@kv) {
        my ($k, $v) = (shift @kv, shift @kv);
        s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge for $k, $v;
        push @out, "$k=$v";
    }
    return join '&', @out;
}

# Twilio's webhook for a call: the TwiML's parameters, by name
sub webhook {
    my ($path, $call) = @_;
    my @params = (AccountSid => $account, CallSid => $call,
        From => '+15550001111', To => '+15550002222');
    my $body = form(@params);
    my $sig = twilio_signature($auth, "http://localhost$path", \@params);
    my ($st, $h, $xml) = http_request($port, "POST $path HTTP/1.0\r\n"
        . "Host: localhost\r\nX-Twilio-Signature: $sig\r\n"
        . "Content-Type: application/x-www-form-urlencoded\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body");
    my %p = $xml =~ /<Parameter name="([^"]*)" value="([^"]*)"\/>/g;
    return ($st, \%p, $xml);
}

# a signed handshake to path, then connected and start with %start
sub stream {
    my ($path, %start) = @_;
    my $c = VoiceWS->connect(port => $port, path => $path, headers => {
        'X-Twilio-Signature' => twilio_signature($auth, "ws://localhost$path")
    });
    die "handshake: " . $c->status unless $c->status == 101;
    $c->begin(%start);
    return $c;
}

# the greeting's audio reaches the caller, then the call stops
sub greeted {
    my ($c) = @_;
    my $audio = 0;
    while (my ($op, $p) = $c->read_frame(10)) {
        last if $op == 8;
        if ($op == 1 && (VoiceWS::decode_json_safe($p)->{event} // '')
            eq 'media')
        {
            $audio = 1;
            last;
        }
    }
    $c->send_json({ event => 'stop', sequenceNumber => '9',
        streamSid => 'MZ0123456789abcdef0123456789abcdef' });
    my ($code) = $c->read_close(10);
    return $audio && ($code // 0) == 1000;
}

# the close code and reason of a refused start, and its log line
sub refused {
    my ($c) = @_;
    my ($code, $reason) = $c->read_close(10);
    return ($code // 0, $reason // '');
}

# the token in the TwiML is the documented formula over the CallSid

my $call = 'CA0123456789abcdef0123456789abcdef';
my ($st, $p, $xml) = webhook('/hook/abc', $call);
is($st, 200, 'the webhook answers');
is($p->{id}, 'abc', 'the operator\'s parameter is there');
like($xml, qr/<Stream [^>]*><Parameter name="voiceToken"/,
    'after the token, the first one, so no parameter limit drops it');
my $token = $p->{voiceToken} // '';
like($token, qr/^\d+\.[0-9a-f]{64}$/, 'and a voiceToken: expiry.hex')
    or diag $xml;
my ($expiry) = $token =~ /^(\d+)\./;
$expiry //= 0;
is($token, stream_token($auth, $call, $expiry),
    'HMAC-SHA256(auth token, CallSid:expiry), as documented');
cmp_ok($expiry, '>', time, 'it expires in the future');
cmp_ok($expiry, '<=', time + 61, 'within the default 60s');

($st, $p) = webhook('/long/x', $call);
($expiry) = ($p->{voiceToken} // '') =~ /^(\d+)\./;
cmp_ok($expiry // 0, '>', time + 500, 'voice_stream_token_lifetime 10m');

my $sig = twilio_signature($auth, "http://localhost/hook/get?CallSid=$call");
($st, undef, $xml) = http_request($port, "GET /hook/get?CallSid=$call "
    . "HTTP/1.0\r\nHost: localhost\r\nX-Twilio-Signature: $sig\r\n\r\n");
my ($get) = $xml =~ /name="voiceToken" value="([^"]*)"/;
($expiry) = ($get // '') =~ /^(\d+)\./;
is($get, stream_token($auth, $call, $expiry // 0),
    'a GET webhook gets a token for the CallSid of its query');

$sig = twilio_signature($auth, 'http://localhost/hook/none');
($st, undef, $xml) = http_request($port, "GET /hook/none HTTP/1.0\r\n"
    . "Host: localhost\r\nX-Twilio-Signature: $sig\r\n\r\n");
is($st, 200, 'a webhook without a CallSid answers');
unlike($xml, qr/voiceToken/, 'without a token');

($st, $p) = webhook('/hook-off/x', $call);
ok(!exists $p->{voiceToken}, 'voice_stream_token off: no token in TwiML');

# starts refused, none of them reaching a provider

my $good = stream_token($auth, $call, time + 60);
my ($hex) = $good =~ /\.(.*)$/;
my %bad = (
    'missing' => [{}, 'missing'],
    'empty' => [{ voiceToken => '' }, 'malformed'],
    'expired' => [{ voiceToken => stream_token($auth, $call, time - 5) },
        'expired'],
    'for another call' => [{ voiceToken => stream_token($auth,
        'CAffffffffffffffffffffffffffffffff', time + 60) }, 'not for'],
    'signed with another key' => [{ voiceToken => stream_token('other',
        $call, time + 60) }, 'not for'],
    'tampered signature' => [{ voiceToken => substr($good, 0, -1)
        . (substr($good, -1) eq '0' ? '1' : '0') }, 'not for'],
    'tampered expiry' => [{ voiceToken => (time + 3600) . ".$hex" },
        'not for'],
    'truncated' => [{ voiceToken => substr($good, 0, -1) }, 'malformed'],
    'over-long' => [{ voiceToken => "$good" . '0' }, 'malformed'],
    'no expiry' => [{ voiceToken => ".$hex" }, 'malformed'],
    'no dot' => [{ voiceToken => (time + 60) . $hex }, 'malformed'],
    'not hex' => [{ voiceToken => (time + 60) . '.' . ('g' x 64) },
        'malformed'],
    'a huge expiry' => [{ voiceToken => ('9' x 30) . ".$hex" }, 'malformed'],
);

for my $name (sort keys %bad) {
    my ($params, $why) = @{ $bad{$name} };
    my $c = stream('/media/abc', call => $call, params => $params);
    my ($code, $reason) = refused($c);
    is($code, 1008, "voiceToken $name: closed with 1008");
    like($t->error_log, qr/voice: call "\Q$call\E" refused: voiceToken \Q$why\E/,
        "voiceToken $name: logged as $why");
}

my $c = stream('/media/abc', call => $call,
    params => { voiceToken => $good }, account => 'ACffffffffffffffffffffffffffffffff');
my ($code) = refused($c);
is($code, 1008, 'another account: closed with 1008');
like($t->error_log, qr/refused: account "ACf+" is not voice_twilio_account_sid/,
    'logged');

$c = stream('/open/x', call => $call, account => 'ACffffffffffffffffffffffffffffffff');
($code) = refused($c);
is($code, 1008, 'another account is refused with voice_stream_token off too');

# the token the webhook gave opens the call's stream

($st, $p) = webhook('/hook/abc', $call);
$c = stream('/media/abc', call => $call, params => $p);
ok(greeted($c), 'the webhook\'s token opens the stream: the greeting plays');

my @tts = $fake->requests('tts');
is(scalar @tts, 1,
    'only that call reached a provider: the refused ones made no request');

# voice_stream_token off: no token needed

$c = stream('/open/x', call => 'CAnotoken');
ok(greeted($c), 'voice_stream_token off: a start without a token plays');

# the simulator plays Twilio: the webhook's CallSid and parameters

my ($rc, $out, $err) = $t->sim("--url http://127.0.0.1:$port/simhook/s1",
    "--token $auth --silence-after 300 --fast --drain-ms 500");
is($rc, 0, 'the simulator\'s call through the webhook runs') or diag $out, $err;
($rc, $out, $err) = $t->call('/sim/s2',
    "--token $auth --silence-after 300 --fast --drain-ms 500 --calls 3");
is($rc, 0, 'and its calls straight to the stream, minting the tokens')
    or diag $out, $err;

$t->stop;

# configurations refused with a clear message

my $ct = VoiceTest->new;

for my $case (
    ['location /m { voice_media_stream echo; voice_stream_token on; }',
     qr/"voice_stream_token on" in location "\/m" requires "voice_twilio_auth_token"/],
    ['voice_twilio_auth_token x; location /h { voice_twiml; '
     . 'voice_stream_url ws://h/m; voice_stream_parameter voiceToken 1; }',
     qr/"voice_stream_parameter voiceToken" in location "\/h" is the one "voice_stream_token" adds/],
    ['voice_twilio_auth_token x; location /m { voice_media_stream echo; '
     . 'voice_stream_token_lifetime 0; }',
     qr/"voice_stream_token_lifetime" must be at least 1s/],
) {
    my ($text, $re) = @$case;
    $ct->write_conf("server { listen 127.0.0.1:%%PORT%%; $text }");
    my ($rc, $out) = $ct->conf_test;
    isnt($rc, 0, "refused: $text");
    like($out, $re, 'with a clear message');
}

# but the operator's own voiceToken is theirs with voice_stream_token off

$ct->write_conf('server { listen 127.0.0.1:%%PORT%%; '
    . 'voice_twilio_auth_token x; location /h { voice_twiml; '
    . 'voice_stream_token off; voice_stream_url ws://h/m; '
    . 'voice_stream_parameter voiceToken $arg_t; } }');
my ($rc2, $out2) = $ct->conf_test;
is($rc2, 0, 'voice_stream_parameter voiceToken with voice_stream_token off')
    or diag $out2;

done_testing;
