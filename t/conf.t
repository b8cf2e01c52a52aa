#!/usr/bin/perl

# Every example configuration in conf/ passes nginx -t with the built
# module, and configurations out of the limits are refused with a clear
# message; no run of nginx -t logs an alert or a sanitizer's report.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use VoiceTest qw(slurp);
use VoiceLog qw(log_is_clean);
use Test::More;

my $nginx = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
my $module = $ENV{VOICE_MODULE} or die "VOICE_MODULE is not set\n";
my @confs = glob "$FindBin::Bin/../conf/*.conf";

ok(@confs > 0, 'conf/ has examples');

for my $conf (@confs) {
    my $prefix = tempdir('voice-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$prefix/$_" for qw(logs modules conf);
    symlink $module, "$prefix/modules/ngx_http_voice_module.so" or die $!;

    # included files (keys, provider snippets) sit beside the example
    for my $inc (glob "$FindBin::Bin/../conf/*") {
        my ($name) = $inc =~ m{([^/]+)$};
        symlink $inc, "$prefix/conf/$name";
    }

    my ($name) = $conf =~ m{([^/]+)$};
    my $out = `$VoiceTest::ENV_PREFIX$nginx -t -p $prefix -c $conf -e $prefix/logs/error.log 2>&1`;

    # A production example names the providers' hosts and a certificate
    # of its own: on a machine without DNS or that certificate, test the
    # same file with loopback for the hosts and a throwaway certificate.
    if ($? && $out =~ /(host not found in upstream|cannot load certificate)/) {
        note "conf/$name: $1; testing it with loopback and a test cert";
        log_is_clean($out . "\n" . slurp("$prefix/logs/error.log"),
            "nginx -t conf/$name refused, no alert, no crash",
            qr/\[emerg\]/);
        unlink "$prefix/logs/error.log";
        my $text = do { local (@ARGV, $/) = $conf; <> };
        $text =~ s/^(\s*server\s+)[A-Za-z][\w.-]*(:\d+)/${1}127.0.0.1$2/mg;
        system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=t"
            . " -keyout $prefix/conf/t.key -out $prefix/conf/t.crt"
            . " >/dev/null 2>&1") == 0 or die "openssl req failed";
        $text =~ s/^(\s*ssl_certificate\s+)\S+;/${1}$prefix\/conf\/t.crt;/mg;
        $text =~ s/^(\s*ssl_certificate_key\s+)\S+;/${1}$prefix\/conf\/t.key;/mg;
        open my $fh, '>', "$prefix/conf/$name.t" or die $!;
        print $fh $text;
        close $fh;
        $out = `$VoiceTest::ENV_PREFIX$nginx -t -p $prefix -c $prefix/conf/$name.t -e $prefix/logs/error.log 2>&1`;
    }

    is($? >> 8, 0, "nginx -t conf/$name") or diag $out;
    log_is_clean($out . "\n" . slurp("$prefix/logs/error.log"),
        "nginx -t conf/$name: the output and error.log are clean");
}

# limits with a clear message

my $t = VoiceTest->new;

for my $case (
    ['voice_llm_max_history 0;', qr/"voice_llm_max_history" must be 1 to 1000/],
    ['voice_vad_min_speech 500ms;', qr/"voice_vad_min_speech" must be 20ms to 300ms/],
    ['voice_vad_silence 50ms;', qr/"voice_vad_silence" must be at least 100ms/],
    ['voice_max_message 10;', qr/"voice_max_message" must be at least 1k/],
    ['voice_playout_lead 10ms;', qr/"voice_playout_lead" must be at least 20ms/],
    ['voice_llm_max_reply 0;', qr/"voice_llm_max_reply" must be more than 0/],
    ['voice_barge_in_echo_margin 41;',
     qr/"voice_barge_in_echo_margin" must be 0 to 40 \(dB\) or "off"/],
    ['voice_barge_in_echo_margin loud;',
     qr/"voice_barge_in_echo_margin" must be 0 to 40 \(dB\) or "off"/],
    ['voice_barge_in_echo_delay 3s;',
     qr/"voice_barge_in_echo_delay" must be 20ms to 2000ms/],
    ['voice_barge_in_echo_delay 10ms;',
     qr/"voice_barge_in_echo_delay" must be 20ms to 2000ms/],
    ['voice_events_queue 0;', qr/"voice_events_queue" must be at least 1/],
    ['voice_events http://127.0.0.1/x;',
     qr/"voice_events" must be a location's URI \("\/\.\.\."\) or "off", not "http:\/\/127\.0\.0\.1\/x"/],
    ['voice_stt_stream https://127.0.0.1/v1/listen;',
     qr/"voice_stt_stream" directive must be a "ws:\/\/" or "wss:\/\/" URL/],
    ['voice_stt_stream wss://stt.example.com/v1/listen;',
     qr/"voice_stt_stream wss:\/\/stt.example.com\/v1\/listen" needs a "resolver" to find "stt.example.com"/],
) {
    my ($line, $re) = @$case;
    $t->write_conf(<<"CONF");
    server {
        listen 127.0.0.1:%%PORT%%;
        location /m { voice_media_stream; $line }
    }
CONF
    # conf_test checks its output and log but for the [emerg] refusal
    my ($rc, $out) = $t->conf_test;
    isnt($rc, 0, "$line refused");
    like($out, $re, "$line: clear message");
}

done_testing;
