#!/usr/bin/perl

# The agent's reply plays out at the pace of speech: whatever the TTS
# delivers at once goes to the caller in steady 20 ms media messages, no
# more than voice_playout_lead ahead of what has been played, so that
# voice_max_pending cuts off only a caller that stops reading.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time sleep);
use VoiceTest qw(slurp until_true);
use VoiceAudio qw(ulaw_linear pcm16);
use VoiceWS;
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

# /small/ on a server of its own: a small socket send buffer, so that a
# caller that stops reading fills nginx's output queue soon

$t->run_agent($fake, <<"CONF", http => <<"HTTP");
        location /greet/ {
            voice_media_stream agent;
            voice_greeting "Hello there.";
        }

        location /capped/ {
            voice_media_stream agent;
            voice_llm_max_reply 300;
        }

        location /media/ {
            voice_media_stream agent;
        }

        location /hello/ {
            voice_media_stream agent;
            voice_greeting "Hello there. How can I help?";
        }

        location /welcome/ {
            voice_media_stream agent;
            voice_greeting "Welcome to the test line of the example company, where every call is answered by a friendly voice.";
        }
CONF
    server {
        listen 127.0.0.1:%%PORT2%% sndbuf=4k;
        server_name localhost;

        voice_stt /_stt;
        voice_llm /_llm;
        voice_tts /_tts;

        location /small/ {
            voice_media_stream agent;
            voice_greeting "Hello there.";
            voice_max_pending 16k;
        }

@{[ $fake->locations ]}
    }
HTTP

my $port = $t->port;
my $small = ($t->ports)[1];
my $lead = 0.5;                         # voice_playout_lead's default

sub begin {
    my ($path, %o) = @_;
    my $c = VoiceWS->connect(port => $path =~ m{^/small/} ? $small : $port,
        path => $path, %o);
    is($c->status, 101, "$path: switched protocols");
    $c->begin;
    return $c;
}

# Twilio's side for "seconds": the media messages as they arrive, each
# [arrival time, μ-law bytes], played in real time from the first one,
# and every mark returned when playback reaches it (as Twilio does).
# Ends early when the server closes.

sub listen_for {
    my ($c, $seconds) = @_;
    my (@media, @marks);
    my ($got, $played, $last) = (0, 0, undef);
    my $end = time + $seconds;

    while (time < $end) {
        my ($op, $p) = $c->read_frame(0.01);
        my $now = time;

        if (defined $op && $op == 8) {
            last;
        }

        if (defined $op && $op == 1) {
            my $m = VoiceWS::decode_json_safe($p);
            my $ev = $m->{event} // '';
            if ($ev eq 'media') {
                my $a = VoiceWS::media_audio($p);
                push @media, [$now, $a];
                $last //= $now;
                $got += length $a;
            } elsif ($ev eq 'mark') {
                push @marks, [$got, $m->{mark}{name}];
            }
        }

        if (defined $last) {
            $played += ($now - $last) * 8000;
            $played = $got if $played > $got;
            $last = $now;
        }

        while (@marks && $marks[0][0] <= $played) {
            my $mk = shift @marks;
            $c->send_json({ event => 'mark',
                streamSid => 'MZ0123456789abcdef0123456789abcdef',
                sequenceNumber => '2', mark => { name => $mk->[1] } });
        }
    }

    return @media;
}

# the caller presses a key, "#": a turn at once, without STT

sub key {
    my ($c, $k) = @_;
    $c->send_json({ event => 'dtmf',
        streamSid => 'MZ0123456789abcdef0123456789abcdef',
        dtmf => { track => 'inbound_track', digit => $k } });
}

# the most the caller's audio ran ahead of real time, in seconds, counted
# from the first media message's arrival

sub most_ahead {
    my (@media) = @_;
    my ($got, $most) = (0, 0);
    for my $m (@media) {
        $got += length $m->[1];
        my $ahead = $got / 8000 - ($m->[0] - $media[0][0]);
        $most = $ahead if $ahead > $most;
    }
    return $most;
}

# a TTS that delivers a 10 s reply in one burst: it reaches the caller at
# the pace of speech, in 20 ms messages

$fake->reset->tts_seconds(10);
my $c = begin('/greet/burst');
my @media = listen_for($c, 12);
my $bytes = 0;
$bytes += length $_->[1] for @media;
is($bytes, 80000, 'all 10 s of the reply reached the caller');
cmp_ok(most_ahead(@media), '<=', $lead + 0.3,
    'never more than voice_playout_lead ahead of real time');
my @odd = grep { length $_->[1] != 160 } @media[0 .. $#media - 1];
is(scalar @odd, 0, 'every media message is 20 ms (160 bytes)');
undef $c;

# a TTS whose first write holds less than a 20 ms message, the rest
# 0.2 s later: that first audio goes to the caller as it comes, not held
# back for a whole message (nothing else plays meanwhile)

$fake->reset->tts_first_write(100);
$c = begin('/greet/small-first');
my ($op, $p);
do { ($op, $p) = $c->read_frame(5) }
    until !defined $op || ($op == 1 && $p =~ /"event":"media"/);
my $first = defined $op ? VoiceWS::media_audio($p) : '';
is(length $first, 100,
    'the first media message carries the TTS\'s first write, all of it');
is($first, chr(FakeProvider::tag('Hello there.')) x 100,
    'its audio, nothing else');
@media = listen_for($c, 1.5);
$bytes = length $first;
$bytes += length $_->[1] for @media;
is($bytes, 160 * length 'Hello there.', 'then the rest of the reply');
undef $c;

# with voice_max_pending 16k, well under the reply's 10 s: a caller that
# reads is never cut off, one that stops reading is

$fake->reset->tts_seconds(10);
my $stuck = begin('/small/stuck', rcvbuf => 4096);
$c = begin('/small/reads');
@media = listen_for($c, 12);
$bytes = 0;
$bytes += length $_->[1] for @media;
is($bytes, 80000, 'a caller that reads gets the whole reply');
unlike($t->error_log, qr/peer is not reading.*"GET \/small\/reads/,
    'and is not cut off');
ok(until_true(sub {
    $t->error_log =~ /peer is not reading.*"GET \/small\/stuck/ }, 10),
    'a caller that stops reading is cut off by voice_max_pending');
undef $stuck;
undef $c;

# an endless LLM stream ends at voice_llm_max_reply: what came before is
# said, the request is closed

$fake->reset->llm_endless;
$c = begin('/capped/llm');
key($c, '#');
ok(until_true(sub {
    $t->error_log =~ /llm reply longer than voice_llm_max_reply \(300 bytes\)/
}, 10), 'an endless LLM reply is cut at voice_llm_max_reply, logged');
ok($fake->closed('llm'), 'its request is closed');
my $said = join ' ', $fake->tts_texts;
cmp_ok(length $said, '<=', 300, 'no more of it goes to TTS');
like($said, qr/^This is sentence 1\. This is sentence 2\. /,
    'what came before goes');
undef $c;

# the audio a reply holds is capped: a TTS answer beyond it is cut, and
# the rest of the reply dropped

$fake->reset->replies('One. Two.')->tts_seconds(130);
$c = begin('/capped/tts');
key($c, '#');
ok(until_true(sub {
    $t->error_log =~ /reply holds 120 s of audio, sentence 0 cut there/
}, 20), 'a TTS answer of 130 s is cut at 120 s, logged');
listen_for($c, 1);
undef $c;

# What the caller heard of a reply, to the word: an interruption 1.5 s
# into a 3 s sentence (the fake TTS makes 20 ms of audio a character)
# keeps about its first half in the history, marked as cut off.  What
# was heard is counted in the audio the simulator played: the samples of
# the sentence's tag before the clear.

my $long = 'We are open every single day of the week from nine in the '
    . 'morning until five in the evening, and on public holidays we open a '
    . 'little later than usual.';

# the words of text up to the end of a word nearest to "at" characters
sub words_near {
    my ($text, $at) = @_;
    my ($best, $bd, $n) = (0, $at, 0);
    while ($text =~ /\S+/g) {
        $n++;
        my $d = abs(pos($text) - $at);
        ($best, $bd) = ($n, $d) if $d < $bd;
    }
    return $best;
}

$fake->reset->transcripts('What are your opening hours?',
    'Wait, and on Sundays?')->replies($long, 'Closed on Sundays.');
my ($rc, $out, $log) = $t->call('/media/cut',
    "--say 'What are your opening hours?' --interrupt 1500",
    "--say 'Wait, and on Sundays?' --record-raw $dir/cut.raw -v");
is($rc, 0, 'interrupted call completes') or diag $out;
my @llm = $fake->json_requests('llm');
is(scalar @llm, 2, 'the interruption is the next turn');
my ($heard) = map { $_->{content} } grep { $_->{role} eq 'assistant' }
    @{ $llm[1]{messages} || [] };
$heard //= '';
my ($part) = $heard =~ /^(.*) \[interrupted\]$/;
ok(defined $part, 'the interrupted sentence is marked as cut off')
    or diag $heard;
$part //= '';
like($long, qr/^\Q$part\E /, 'its beginning is kept, cut at a word');
my $words = () = $part =~ /\S+/g;
my $tag = ulaw_linear(FakeProvider::tag($long));
my $played = grep { $_ == $tag } pcm16(slurp("$dir/cut.raw"));
my $want = words_near($long, $played / 160);
cmp_ok(abs($words - $want), '<=', 2,
    'the words kept are those the caller heard, within two');
note("heard $words words, the caller's audio says $want (of 30)");
cmp_ok($words, '>=', 10, 'about the first half: not much less');
cmp_ok($words, '<=', 22, 'nor much more');
my ($after) = $log =~ /< \{"event":"clear".*?\n(.*)/s;
my $stale = grep { ord(substr(decode_base64($_), 0, 1))
    == FakeProvider::tag($long) } ($after // '') =~ /"payload":"([^"]+)"/g;
is($stale, 0, 'no audio of the interrupted sentence after the clear');

# a greeting heard whole is in the history whole

$fake->reset;
$c = begin('/hello/whole');
listen_for($c, 1.5);
key($c, '#');
ok(until_true(sub { $fake->requests('llm') >= 1 }, 10), 'a turn');
@llm = $fake->json_requests('llm');
is_deeply([ @{ $llm[0]{messages} || [] }[1, 2] ],
    [ { role => 'assistant', content => 'Hello there. How can I help?' },
      { role => 'user', content => '[caller pressed #]' } ],
    'the greeting heard whole, then the keys');
undef $c;

# an interrupted greeting keeps only what was heard: 1 s of its 2 s

$fake->reset;
$c = begin('/welcome/cut');
listen_for($c, 1);
key($c, '#');
ok(until_true(sub { $fake->requests('llm') >= 1 }, 10), 'a turn');
@llm = $fake->json_requests('llm');
($heard) = map { $_->{content} } grep { $_->{role} eq 'assistant' }
    @{ $llm[0]{messages} || [] };
$heard //= '';
like($heard, qr/^Welcome to the .* \[interrupted\]$/,
    'the interrupted greeting: its beginning, marked as cut off');
$words = () = $heard =~ /\S+/g;
cmp_ok($words - 1, '>=', 5, 'about half of its 18 words: not much less');
cmp_ok($words - 1, '<=', 13, 'nor much more');
undef $c;

# voice_barge_in_resume (on by default): an interruption that holds no
# words (the STT returns nothing) was none; the sentence plays on from
# where it stopped, a little before, and is heard whole

$fake->reset->transcripts('What are your opening hours?', '', 'Thanks.')
    ->replies($long, 'You are welcome.');
($rc, $out, $log) = $t->call('/media/resume',
    "--say 'What are your opening hours?' --interrupt 1500 --say 'Hmm.'",
    "--say 'Thanks.' --record-raw $dir/resume.raw -v");
is($rc, 0, 'call with a false interruption completes') or diag $out;
like($t->error_log, qr/the interruption held no words, the reply goes on/,
    'the reply goes on, logged');
cmp_ok(() = $log =~ /< \{"event":"clear"/g, '==', 1,
    'Twilio cleared what it held at the interruption');
$played = grep { $_ == $tag } pcm16(slurp("$dir/resume.raw"));
cmp_ok($played, '>=', 160 * length $long,
    'the caller heard all of the sentence');
cmp_ok($played - 160 * length $long, '<=', 8000,
    'less than a second of it twice: it went on where it stopped');
note(sprintf 'heard twice: %d ms', ($played - 160 * length $long) / 8);
@llm = $fake->json_requests('llm');
is(scalar @llm, 2, 'no turn for the interruption');
($heard) = map { $_->{content} } grep { $_->{role} eq 'assistant' }
    @{ $llm[1]{messages} || [] };
is($heard, $long, 'the history has the sentence whole');

$t->stop;

done_testing;
