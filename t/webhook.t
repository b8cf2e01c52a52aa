#!/usr/bin/perl

# Twilio's voice webhook: TwiML, escaping, X-Twilio-Signature, limits,
# configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest qw(http_request twilio_signature);

my $t = VoiceTest->new;

$t->run(<<'CONF');
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location ~ ^/open/(?<call_id>[A-Za-z0-9_-]+)$ {
            voice_twiml;
            voice_stream_url wss://$host/media/$call_id;
            voice_stream_parameter callId $call_id;
            voice_stream_parameter from $arg_from;
        }

        location ~ ^/escape/(?<v>.*)$ {
            voice_twiml;
            voice_stream_url "wss://h/s?a=1&b=<x>";
            voice_stream_parameter "n&<>\"'" $v;
        }

        location = /bare {
            voice_twiml;
            voice_stream_url wss://h/s;
        }

        location /signed/ {
            voice_twilio_auth_token 12345;
            voice_twiml;
            voice_stream_url wss://$host/media;
            voice_max_form_size 4k;
            client_body_buffer_size 1k;
        }

        location /proxied/ {
            voice_twilio_auth_token secret;
            voice_public_url https://public.example.com$request_uri;
            voice_twiml;
            voice_stream_url wss://public.example.com/media;
        }
    }
CONF

my $port = $t->port;
my $xml = '<?xml version="1.0" encoding="UTF-8"?>';

sub get {
    my ($uri, %h) = @_;
    my $host = delete $h{Host} // 'localhost';
    my $extra = join '', map { "$_: $h{$_}\r\n" } sort keys %h;
    return http_request($port, "GET $uri HTTP/1.0\r\nHost: $host\r\n$extra\r\n");
}

sub post {
    my ($uri, $body, %h) = @_;
    my $host = delete $h{Host} // 'localhost';
    $h{'Content-Type'} //= 'application/x-www-form-urlencoded';
    my $extra = join '', map { "$_: $h{$_}\r\n" } sort keys %h;
    my $len = length $body;
    return http_request($port, "POST $uri HTTP/1.0\r\nHost: $host\r\n"
        . "Content-Length: $len\r\n$extra\r\n$body");
}

sub form {
    my @kv = @_;
    my @out;
    while (@kv) {
        my ($k, $v) = (shift @kv, shift @kv);
        for ($k, $v) {
            s/([^A-Za-z0-9_.~ -])/sprintf '%%%02X', ord $1/ge;
            tr/ /+/;
        }
        push @out, "$k=$v";
    }
    return join '&', @out;
}

# TwiML

my ($st, $h, $body) = get('/open/abc-1?from=%2B15551234');
is($st, 200, 'GET answers 200');
is($h->{'content-type'}, 'text/xml', 'Content-Type text/xml');
is($body, $xml . '<Response><Connect><Stream url="wss://localhost/media/abc-1">'
    . '<Parameter name="callId" value="abc-1"/>'
    . '<Parameter name="from" value="%2B15551234"/>'
    . "</Stream></Connect></Response>\n", 'exact TwiML with captures');
is($h->{'content-length'}, length $body, 'Content-Length');

($st, $h, $body) = post('/open/xyz', form(CallSid => 'CA1'));
is($st, 200, 'POST answers 200');
like($body, qr{<Stream url="wss://localhost/media/xyz">}, 'POST TwiML');

($st, $h, $body) = get('/escape/%22%3C%3E%26%27');
is($body, $xml . '<Response><Connect>'
    . '<Stream url="wss://h/s?a=1&amp;b=&lt;x&gt;">'
    . '<Parameter name="n&amp;&lt;&gt;&quot;&apos;" '
    . 'value="&quot;&lt;&gt;&amp;&apos;"/>'
    . "</Stream></Connect></Response>\n", 'escaping of " < > & \'');

($st, $h, $body) = get('/bare');
is($body, $xml . '<Response><Connect><Stream url="wss://h/s">'
    . "</Stream></Connect></Response>\n", 'no parameters');

($st, $h, $body) = http_request($port,
    "HEAD /bare HTTP/1.0\r\nHost: localhost\r\n\r\n");
is($st, 200, 'HEAD 200');
is($body, '', 'HEAD has no body');

for my $m (qw(PUT DELETE PATCH OPTIONS)) {
    ($st) = http_request($port,
        "$m /bare HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    is($st, 405, "$m is 405");
}

# signatures

my @params = (CallSid => 'CA1234567890ABCDE', Caller => '+12349013030',
    Digits => '1234', From => '+12349013030', To => '+18005551212');
my $url = 'http://localhost/signed/hook?foo=1&bar=2';
my $sig = twilio_signature('12345', $url, \@params);

($st, $h, $body) = post('/signed/hook?foo=1&bar=2', form(@params),
    'X-Twilio-Signature' => $sig);
is($st, 200, 'valid signature');
like($body, qr{<Stream url="wss://localhost/media">}, 'signed TwiML');

($st) = post('/signed/hook?foo=1&bar=2', form(reverse_pairs(@params)),
    'X-Twilio-Signature' => $sig);
is($st, 200, 'parameter order does not matter');

($st) = post('/signed/hook?foo=1&bar=2', form(@params));
is($st, 403, 'missing signature');

($st) = post('/signed/hook?foo=1&bar=2', form(@params),
    'X-Twilio-Signature' => twilio_signature('54321', $url, \@params));
is($st, 403, 'wrong token');

($st) = post('/signed/hook?foo=1&bar=2', form(@params),
    'X-Twilio-Signature' => 'not base64 at all!!');
is($st, 403, 'malformed signature');

my @tampered = @params;
$tampered[-1] = '+18005551213';
($st) = post('/signed/hook?foo=1&bar=2', form(@tampered),
    'X-Twilio-Signature' => $sig);
is($st, 403, 'tampered parameter');

($st) = post('/signed/hook?foo=1&bar=2', form(@params, Extra => 'x'),
    'X-Twilio-Signature' => $sig);
is($st, 403, 'added parameter');

($st) = post('/signed/hook?foo=1&bar=3', form(@params),
    'X-Twilio-Signature' => $sig);
is($st, 403, 'tampered query string');

# form decoding: "+", %XX and empty values are signed decoded

my @odd = (Body => 'hello world & more=yes', Empty => '', Uni => "caf\xc3\xa9",
    Plus => '+1 (555)');
$sig = twilio_signature('12345', 'http://localhost/signed/f', \@odd);
($st) = post('/signed/f', form(@odd), 'X-Twilio-Signature' => $sig);
is($st, 200, 'decoded +, %XX and empty values');

($st) = post('/signed/f', 'Body=hello+world+%26+more%3Dyes&Empty=&Uni=caf%C3%A9'
    . '&Plus=%2B1+%28555%29', 'X-Twilio-Signature' => $sig);
is($st, 200, 'hand-encoded form');

# repeated parameters

my @rep = (To => '1', Media => 'b', Media => 'a');
$sig = twilio_signature('12345', 'http://localhost/signed/r', \@rep);
($st) = post('/signed/r', form(@rep), 'X-Twilio-Signature' => $sig);
is($st, 200, 'repeated parameter, values sorted');

my @dup = (To => '1', X => 'a', X => 'a');
($st) = post('/signed/r', form(@dup),
    'X-Twilio-Signature' => twilio_signature('12345',
        'http://localhost/signed/r', \@dup));
is($st, 200, 'exact duplicate counted twice');
($st) = post('/signed/r', form(@dup),
    'X-Twilio-Signature' => twilio_signature('12345',
        'http://localhost/signed/r', [To => '1', X => 'a']));
is($st, 200, 'exact duplicate counted once');

# GET: the query string is part of the signed URL

$sig = twilio_signature('12345',
    'http://localhost/signed/g?CallSid=CA1&From=%2B1555', []);
($st) = get('/signed/g?CallSid=CA1&From=%2B1555', 'X-Twilio-Signature' => $sig);
is($st, 200, 'GET with query string');
($st) = get('/signed/g?CallSid=CA2&From=%2B1555', 'X-Twilio-Signature' => $sig);
is($st, 403, 'GET with other query string');

# default port: signed with, requested without, and the other way round

$sig = twilio_signature('12345', 'http://example.com:80/signed/p', []);
($st) = get('/signed/p', Host => 'example.com', 'X-Twilio-Signature' => $sig);
is($st, 200, 'signed with :80, Host without');

$sig = twilio_signature('12345', 'http://example.com/signed/p', []);
($st) = get('/signed/p', Host => 'example.com:80', 'X-Twilio-Signature' => $sig);
is($st, 200, 'signed without port, Host with :80');

$sig = twilio_signature('12345', "http://127.0.0.1:$port/signed/p", []);
($st) = get('/signed/p', Host => "127.0.0.1:$port", 'X-Twilio-Signature' => $sig);
is($st, 200, 'non-default port');
($st) = get('/signed/p', Host => '127.0.0.1', 'X-Twilio-Signature' => $sig);
is($st, 403, 'non-default port is not optional');

# behind a TLS-terminating proxy

@params = (CallSid => 'CA9', From => '+1');
$sig = twilio_signature('secret',
    'https://public.example.com/proxied/hook?x=1', \@params);
($st) = post('/proxied/hook?x=1', form(@params), 'X-Twilio-Signature' => $sig);
is($st, 200, 'voice_public_url');
$sig = twilio_signature('secret', 'https://public.example.com:443/proxied/hook?x=1',
    \@params);
($st) = post('/proxied/hook?x=1', form(@params), 'X-Twilio-Signature' => $sig);
is($st, 200, 'voice_public_url with :443');
$sig = twilio_signature('secret', 'http://localhost/proxied/hook?x=1', \@params);
($st) = post('/proxied/hook?x=1', form(@params), 'X-Twilio-Signature' => $sig);
is($st, 403, 'the local URL is not the one Twilio signed');

# limits: a body spooled to a file is still read; past the limit is 413

my @big = (CallSid => 'CA1', Blob => 'x' x 3000);
$sig = twilio_signature('12345', 'http://localhost/signed/big', \@big);
($st) = post('/signed/big', form(@big), 'X-Twilio-Signature' => $sig);
is($st, 200, 'body larger than client_body_buffer_size');

($st) = post('/signed/big', form(CallSid => 'CA1', Blob => 'x' x 5000),
    'X-Twilio-Signature' => $sig);
is($st, 413, 'body larger than voice_max_form_size');

my $chunk = 'CallSid=CA1&Blob=' . ('x' x 5000);
($st) = http_request($port, "POST /signed/big HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n"
    . "Content-Type: application/x-www-form-urlencoded\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n"
    . sprintf('%x', length $chunk) . "\r\n$chunk\r\n0\r\n\r\n");
is($st, 413, 'chunked body larger than voice_max_form_size');

($st) = post('/signed/f', 'a=%zz', 'X-Twilio-Signature' => $sig);
is($st, 400, 'malformed form body');

$t->stop;

like($t->error_log, qr/no "voice_twilio_auth_token" for location/,
    'warning at load without a token');
my @warnings = $t->error_log =~ /no "voice_twilio_auth_token"/g;
is(scalar @warnings, 1, 'warned once');
unlike($t->error_log, qr/12345|secret/, 'tokens are never logged');

# configuration errors

$t->write_conf(<<'CONF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location /w { voice_twiml; }
    }
CONF
my ($rc, $out) = $t->conf_test;
isnt($rc, 0, 'voice_twiml without voice_stream_url refused');
like($out, qr/"voice_twiml" in location "\/w" requires "voice_stream_url"/,
    'clear message');

$t->write_conf(<<'CONF');
    server {
        listen 127.0.0.1:%%PORT%%;
        voice_stream_url wss://h/s;
        location /w { voice_twiml; voice_twiml; }
    }
CONF
($rc, $out) = $t->conf_test;
isnt($rc, 0, 'duplicate voice_twiml refused');
like($out, qr/"voice_twiml" directive is duplicate/, 'duplicate message');

done_testing;

sub reverse_pairs {
    my @kv = @_;
    my @out;
    while (@kv) {
        unshift @out, shift @kv, shift @kv;
    }
    return @out;
}
