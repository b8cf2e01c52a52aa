#!/usr/bin/perl

# The work one call can cause is bounded: keys pressed together are one
# turn, caller audio sent faster than real time makes no more turns than
# speech could, and transcripts reach error.log only when asked for.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use VoiceTest qw(slurp spit until_true);
use VoiceAudio qw(wav wav_pcm speak);
use VoiceWS;
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

$t->run_agent($fake, <<"CONF");
        location /media/ {
            voice_media_stream agent;
        }

        location /hash/ {
            voice_media_stream agent;
            voice_dtmf_timeout 60s;
        }

        location /quick/ {
            voice_media_stream agent;
            voice_dtmf_timeout 400ms;
        }

        location /private/ {
            voice_media_stream agent;
            voice_log_transcripts off;
        }
CONF

my $port = $t->port;

sub begin {
    my ($path) = @_;
    my $c = VoiceWS->connect(port => $port, path => $path);
    is($c->status, 101, "$path: switched protocols");
    $c->begin;
    return $c;
}

sub key {
    my ($k) = @_;
    return VoiceWS::frame(op => 1, payload => VoiceWS::encode({
        event => 'dtmf', streamSid => 'MZ0123456789abcdef0123456789abcdef',
        dtmf => { track => 'inbound_track', digit => $k } }));
}

sub llm_users {
    return map { $_->{messages}[-1]{content} } $fake->json_requests('llm');
}

# fifty keys in one write: one turn, one LLM request

$fake->reset->replies('Got it.');
my $c = begin('/media/keys');
my $keys = join '', map { $_ % 10 } 1 .. 50;
$c->send_raw(join '', map { key($_) } split //, $keys);
ok(until_true(sub { scalar(llm_users()) >= 1 }, 10),
    'the keys reach the model');
sleep 1.5;
my @users = llm_users();
is(scalar @users, 1, 'fifty keys in one write: one LLM request');
is($users[0], "[caller pressed $keys]", 'all the keys, in order');
undef $c;

# "#" ends the keys at once, however long voice_dtmf_timeout is

$fake->reset->replies('Thanks.');
$c = begin('/hash/x');
$c->send_raw(key('1'));
sleep 0.1;
$c->send_raw(key('2') . key('#'));
ok(until_true(sub { scalar(llm_users()) >= 1 }, 10),
    '"#" ends the turn before voice_dtmf_timeout');
is((llm_users())[0], '[caller pressed 12#]', 'keys up to "#"');
undef $c;

# keys apart by less than voice_dtmf_timeout are one turn; then the next

$fake->reset->replies('One.', 'Two.');
$c = begin('/quick/x');
$c->send_raw(key('4'));
sleep 0.1;
$c->send_raw(key('2'));
ok(until_true(sub { scalar(llm_users()) >= 1 }, 10), 'a turn of keys');
sleep 1;
$c->send_raw(key('7'));
ok(until_true(sub { scalar(llm_users()) >= 2 }, 10), 'a second one');
is_deeply([llm_users()], ['[caller pressed 42]', '[caller pressed 7]'],
    'keys within the timeout together, later ones apart');
undef $c;

# an unknown key is ignored

$fake->reset->replies('Hm.');
$c = begin('/quick/y');
$c->send_raw(key('x') . key('55') . key('9'));
ok(until_true(sub { scalar(llm_users()) >= 1 }, 10), 'a turn');
is((llm_users())[0], '[caller pressed 9]', 'only the known key');
undef $c;

# ten utterances sent at once: no more turns than five seconds of speech

my @q = ('What are your opening hours?', 'Do you deliver?');
my $pcm = '';
my $rate;
for my $i (0 .. 9) {
    my $f = speak("$dir/q$i.wav", $q[$i % 2], 160);
    my ($r, $p) = wav_pcm(slurp($f));
    $rate = $r;
    $pcm .= $p . "\0\0" x int($r * 1.5);
}
spit("$dir/ten.wav", wav($rate, $pcm));
my $seconds = length($pcm) / 2 / $rate;
cmp_ok($seconds, '>', 20, 'the caller audio lasts more than 20 s');

$fake->reset->transcripts(@q, @q, @q, @q, @q)->replies(('Sure.') x 10);
my ($rc, $out) = $t->call('/media/fast', "--play $dir/ten.wav",
    '--fast --drain-ms 2000');
is($rc, 0, 'unpaced call completes') or diag $out;
my @stt = $fake->requests('stt');
cmp_ok(scalar @stt, '>=', 1, 'the first utterance is heard');
cmp_ok(scalar @stt, '<=', 2,
    'ten utterances at once make no more STT requests than 5 s of speech');
like($t->error_log, qr/caller audio arrives faster than real time/,
    'the dropped audio is logged');

# transcripts: in error.log with voice_log_transcripts on, else not

spit("$dir/one.wav", wav($rate, substr($pcm, 0, 2 * int($rate * 3))));
$fake->reset->transcripts('My secret is swordfish.')
    ->replies('Your secret is safe.');
($rc, $out) = $t->call('/private/x', "--play $dir/one.wav",
    '--fast --drain-ms 3000 --silence-after 1000');
is($rc, 0, 'private call completes') or diag $out;
is(scalar $fake->requests('llm'), 1, 'a turn was taken');
my $log = $t->error_log;
unlike($log, qr/swordfish|secret is safe/,
    'voice_log_transcripts off: neither side\'s words in error.log');
like($log, qr/caller said \d+ bytes \(stt \d+ ms\)/,
    'the turn is logged without the words');
like($log, qr/agent says sentence 0, \d+ bytes/,
    'the reply too');

$fake->reset->transcripts('My secret is "swordfish".')
    ->replies('Your secret is "safe".');
($rc, $out) = $t->call('/media/open', "--play $dir/one.wav",
    '--fast --drain-ms 3000 --silence-after 1000');
like($t->error_log, qr/caller said "My secret is \\x22swordfish\\x22\."/,
    'voice_log_transcripts on: the caller\'s words, escaped');
like($t->error_log, qr/agent says "Your secret is \\x22safe\\x22\."/,
    'and the agent\'s');

$t->stop;

done_testing;
