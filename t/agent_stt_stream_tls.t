#!/usr/bin/perl

# The streaming recognizer over wss://: nginx's TLS with certificate
# verification in the module's own WebSocket client.  A recognizer whose
# certificate is trusted and is for the URL's host streams; one whose
# certificate is not is refused with an error line, and its calls fall
# back on the batch voice_stt; verification off streams to it anyway.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest;
use FakeProvider;
use FakeStreamingSTT;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");
my $rec = FakeStreamingSTT->new(dir => "$dir/rec");
my $rport = $rec->port;

# a certificate for 127.0.0.1 (the trusted one) and one for another host

for my $cert (['good', 'IP:127.0.0.1'], ['other', 'DNS:other.example']) {
    my ($name, $san) = @$cert;
    system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=$name"
        . " -addext subjectAltName=$san -keyout $dir/$name.key"
        . " -out $dir/$name.crt >/dev/null 2>&1") == 0
        or die "openssl req failed";
}

# both trusted: the one for another host fails on its name alone
system("cat $dir/good.crt $dir/other.crt > $dir/trusted.crt") == 0 or die;

my $query = 'encoding=mulaw&sample_rate=8000&channels=1&interim_results=true'
    . '&smart_format=true';

# nginx terminates TLS in front of the fake recognizer, twice: with the
# good certificate on %%PORT2%%, with the other one on %%PORT3%%

my $proxy = <<"PROXY";
        location / {
            proxy_pass http://127.0.0.1:$rport;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection upgrade;
            proxy_read_timeout 60s;
        }
PROXY

my $servers = <<"SERVERS";
    server {
        listen 127.0.0.1:%%PORT2%% ssl;
        ssl_certificate $dir/good.crt;
        ssl_certificate_key $dir/good.key;
$proxy
    }

    server {
        listen 127.0.0.1:%%PORT3%% ssl;
        ssl_certificate $dir/other.crt;
        ssl_certificate_key $dir/other.key;
$proxy
    }
SERVERS

$t->run_agent($fake, <<"CONF", http => $servers);
        voice_upstream_ssl_trusted_certificate $dir/trusted.crt;

        location /good/ {
            voice_media_stream;
            voice_stt_stream wss://127.0.0.1:%%PORT2%%/v1/listen?$query;
        }

        location /other/ {
            voice_media_stream;
            voice_stt_stream wss://127.0.0.1:%%PORT3%%/v1/listen?$query;
        }

        location /unverified/ {
            voice_media_stream;
            voice_stt_stream wss://127.0.0.1:%%PORT3%%/v1/listen?$query;
            voice_upstream_ssl_verify off;
        }
CONF

my $q = 'What are your opening hours?';

sub turn {
    my ($path) = @_;
    $fake->reset->transcripts('BATCH')->replies('Nine to five.');
    $rec->reset->transcripts('Streamed.');
    my ($rc, $out, $log) = $t->call("/$path/c", "--say '$q'",
        '--silence-after 3000 --json');
    ok($rc == 0, "$path: the call completes") or diag $out, $log;
    my @turns = map { $_->{messages}[-1]{content} }
        $fake->json_requests('llm');
    return @turns;
}

# trusted, and for 127.0.0.1: the turn streams over TLS

my @turns = turn('good');
ok($rec->connections >= 1, 'good: the recognizer was reached over TLS');
is_deeply(\@turns, ['Streamed.'], 'good: the streamed transcript is the turn');
is(scalar $fake->requests('stt'), 0, 'good: the batch STT is not used');

# a certificate for another host: refused, the batch path answers

@turns = turn('other');
is($rec->connections, 0, 'other: no WebSocket reaches the recognizer');
is_deeply(\@turns, ['BATCH'], 'other: the batch transcript is the turn');
like($t->error_log, qr/voice upstream: certificate does not match "127\.0\.0\.1"/,
    'other: the log says why');

# the same with verification off: it streams

@turns = turn('unverified');
ok($rec->connections >= 1, 'unverified: the recognizer was reached');
is_deeply(\@turns, ['Streamed.'], 'unverified: the streamed transcript');

$t->stop;

done_testing;
