#!/usr/bin/perl

# Whole calls with the simulator against echo mode: real speech comes back
# identical, 200 calls at once with misbehaving peers beside them, calls
# survive a reload, and 1,000 calls leave nothing behind.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use VoiceTest qw(slurp);
use VoiceAudio qw(speak);
use VoiceWS;

my $t = VoiceTest->new;
my $dir = $t->prefix;

# a certificate for the wss:// listener
system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
    . "-keyout $dir/key.pem -out $dir/cert.pem >/dev/null 2>&1") == 0
    or die "openssl failed";

$t->run(<<'CONF');
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        voice_twilio_auth_token t0ken;

        location ~ ^/hook/(?<id>[A-Za-z0-9]+)$ {
            voice_twiml;
            voice_stream_url ws://$http_host/media/$id;
            voice_stream_parameter id $id;
        }

        location /media/ {
            voice_media_stream echo;
        }
    }

    server {
        listen 127.0.0.1:%%PORT2%% ssl;
        server_name localhost;
        ssl_certificate %%PREFIX%%/cert.pem;
        ssl_certificate_key %%PREFIX%%/key.pem;
        voice_twilio_auth_token t0ken;

        location /media/ {
            voice_media_stream echo;
        }
    }
CONF

my $port = $t->port;

# 10 s of real speech, synthesized now

my $text = 'Thank you for calling. This is a test of the echo mode of the '
    . 'voice module. Every word you say comes straight back to you, decoded '
    . 'and encoded again on the way. The quick brown fox jumps over the lazy '
    . 'dog, and then the lazy dog goes back to sleep in the afternoon sun.';
speak("$dir/speech.wav", $text, 150);
my $hook = "http://127.0.0.1:$port/hook";

my ($rc, $out, $err) = $t->sim("--url $hook/call1 --token t0ken",
    "--play $dir/speech.wav --silence-after 400 --record-raw $dir/heard.raw",
    "--save-sent $dir/sent.raw --record $dir/heard.wav");
is($rc, 0, 'real-time call completes') or diag $out, $err;

my $sent = slurp("$dir/sent.raw");
my $heard = slurp("$dir/heard.raw");
cmp_ok(length($sent) / 2 / 8000, '>=', 10, 'at least 10 s of speech sent');
is(substr($heard, 0, length $sent), $sent, 'the speech came back identical');
is(substr($heard, length $sent) =~ tr/\0//c, 0, 'then the silence');
my ($marks, $back) = $out =~ /(\d+) marks \((\d+) returned\)/;
is($marks, int((length($heard) / 2) / 8000), 'a mark each second');
is($back, $marks, 'every mark returned after playback');
my $wav = slurp("$dir/heard.wav");
is(substr($wav, 0, 4) . substr($wav, 8, 8), 'RIFFWAVEfmt ', 'WAV of what the caller heard');
cmp_ok(length($wav) - 44, '>=', length($heard) - 320, 'it holds the call in real time');

# the same over TLS, as Twilio connects: wss://, signed over the wss URL

my $port2 = ($t->ports)[1];
($rc, $out, $err) = $t->sim("--stream-url wss://localhost:$port2/media/tls",
    "--token t0ken --insecure --play $dir/speech.wav --fast --drain-ms 500",
    "--silence-after 0 --record-raw $dir/tls.raw");
is($rc, 0, 'wss:// call completes') or diag $out, $err;
is(substr(slurp("$dir/tls.raw"), 0, length $sent), $sent,
    'wss:// echo identical');

# 200 calls at once, with broken peers beside them

$t->sim_start(load => "--stream-url ws://127.0.0.1:$port/media/load",
    "--token t0ken --play $dir/speech.wav --fast --drain-ms 1000",
    '--calls 200 --json --rtt --silence-after 0');

my @bad;
for my $i (1 .. 10) {
    # slow-loris: a handshake that never ends
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die;
    print $s "GET /media/slow HTTP/1.1\r\nHost: localhost\r\n";
    push @bad, $s;

    # bad frames right after a valid handshake
    my $c = VoiceWS->connect(port => $port, path => '/media/bad');
    $c->send_raw("\xff\xff\xff\xff garbage");
    push @bad, $c;

    # a peer that never reads
    my $r = VoiceWS->connect(port => $port, path => '/media/stuck',
        rcvbuf => 4096);
    $r->begin;
    push @bad, $r;
}

($rc, my $json, $err) = $t->sim_wait('load');
is($rc, 0, '200 concurrent calls succeed') or diag $err;
my $load = eval { decode_json($json) } || {};
my $want = int((length($sent) / 2 + 159) / 160) * 160;
my @short = grep { $_->{audio_heard_bytes} != $want } @{ $load->{calls} || [] };
is(scalar @{ $load->{calls} || [] }, 200, '200 call reports');
is(scalar @short, 0, "each call got all its audio back ($want bytes)")
    or diag explain $short[0];

# --rtt: every frame sent came back, each timed, none lost
my $frames = $want / 160;
my @untimed = grep { $_->{frames} != $frames || $_->{echoed} != $frames
    || $_->{lost} != 0 } @{ $load->{calls} || [] };
is(scalar @untimed, 0, "each call's $frames frames echoed and timed")
    or diag explain $untimed[0];
my $sum = $load->{summary} || {};
is($sum->{frames}, 200 * $frames, 'the summary counts all frames sent');
is($sum->{echoed}, $sum->{frames}, 'all of them echoed');
is($sum->{lost}, 0, 'none lost');
is($sum->{late_ms}, 100, 'late means over 100 ms');
my $rtt = $sum->{rtt_ms} || {};
ok($rtt->{p50} > 0 && $rtt->{p50} <= $rtt->{p99}
    && $rtt->{p99} <= $rtt->{max}, 'round trip p50 <= p99 <= max')
    or diag explain $rtt;
undef @bad;

# a reload leaves a live call on the old worker until it ends

$t->sim_start(reload => "--url $hook/reload --token t0ken",
    "--silence-after 3000 --record-raw $dir/reload.raw");
select undef, undef, undef, 1;
$t->reload;
select undef, undef, undef, 0.5;
($rc, $out, $err) = $t->sim("--url $hook/after --token t0ken",
    '--silence-after 200');
is($rc, 0, 'a new call after the reload') or diag $out, $err;
($rc, $out, $err) = $t->sim_wait('reload');
is($rc, 0, 'the call across the reload completed') or diag $out, $err;
is(length(slurp("$dir/reload.raw")), 3000 * 8 * 2 + 2 * 8 * 20 * 0,
    'and heard all its audio');

# 1,000 calls; the worker's allocation check runs at exit

($rc, $out, $err) = $t->call('/media/many',
    '--token t0ken --fast --drain-ms 300 --silence-after 200 --calls 1000');
is($rc, 0, '1,000 more calls') or diag $out, $err;

$t->stop;

done_testing;
