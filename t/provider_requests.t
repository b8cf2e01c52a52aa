#!/usr/bin/perl

# Provider requests as an operator writes their locations: a location
# that fails over to another provider with error_page, or hands the
# request on with try_files, still answers the turn.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceTest;
use VoiceAudio qw(speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");
my $backup = FakeProvider->new(dir => "$dir/backup");
my $p = $fake->port;
my $b = $backup->port;
my $closed = VoiceTest::free_port();

# a provider that hands the request on to /_stt with X-Accel-Redirect
my $accel = <<'HTTP';
    server {
        listen 127.0.0.1:%%PORT2%%;

        location = /accel {
            add_header X-Accel-Redirect /_stt;
            return 200 "";
        }
    }
HTTP

$t->run_agent($fake, <<"CONF", http => $accel);
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
            proxy_pass http://127.0.0.1:$b;
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
CONF

speak("$dir/q.wav", 'What are your opening hours today?', 150);

my $q = 'What are your opening hours today?';

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

$t->stop;

done_testing;
