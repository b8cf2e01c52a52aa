#!/usr/bin/perl

# The agent against fake providers that speak the real wire formats: a
# full turn (STT -> streamed LLM -> streamed TTS -> audio with marks).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use VoiceTest qw(slurp);
use VoiceAudio qw(speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");

$t->run_agent($fake, <<'CONF');
        location /media/ {
            voice_media_stream;
            voice_system_prompt "You are a test. Be brief.";
            voice_llm_model test-model;
            voice_tts_model test-tts;
            voice_stt_language en;
            voice_twilio_auth_token tok3n;
        }
CONF

speak("$dir/q.wav", 'What are your opening hours today?', 150);

$fake->transcripts('What are your opening hours today?')
    ->replies('We open at 9 a.m. every day. Dr. Smith is in until 5.30 p.m. '
        . 'Anything else?');

my ($rc, $out, $log) = $t->call('/media/one', "--play $dir/q.wav",
    '--token tok3n --silence-after 1500 --fast --drain-ms 4000',
    "--record-raw $dir/heard.raw --save-sent $dir/sent.raw -v");
is($rc, 0, 'call completes') or diag $out, $log;

# STT got a WAV of the caller's speech

my ($stt) = $fake->requests('stt');
ok($stt, 'STT request made');
my ($ct) = (($fake->request_heads('stt'))[0] // '') =~ /content-type: (.*)/;
like($ct, qr{^multipart/form-data; boundary=\S+$}, 'multipart Content-Type');
my ($boundary) = $ct =~ /boundary=(\S+)/;
my ($wav) = $stt =~ /name="file"; filename="utterance.wav"\r\nContent-Type: audio\/wav\r\n\r\n(.*?)\r\n--\Q$boundary\E\r\n/s;
ok(defined $wav, 'a file part');
$wav //= '';
is(substr($wav, 0, 4), 'RIFF', 'WAV file');
my ($rate, $bits) = unpack 'V x6 v', substr($wav, 24, 12);
is($rate, 8000, '8 kHz');
is(unpack('v', substr($wav, 22, 2)), 1, 'mono');
like($stt, qr/name="model"\r\n\r\nwhisper-1\r\n/, 'model field');
like($stt, qr/name="language"\r\n\r\nen\r\n/, 'language field');

my $pcm = substr($wav, 44);
my $sent = slurp("$dir/sent.raw");
my $probe = substr($pcm, 4000, 400);
my $at = index($sent, $probe);
ok($at >= 0, 'the WAV samples are the caller\'s speech');
cmp_ok(length($pcm) / 16000, '>=', 1.0, 'utterance at least 1 s');
cmp_ok(length($pcm) / 16000, '<=', length($sent) / 16000 + 1.5,
    'no longer than what was sent');

# LLM got system prompt + transcript, streaming

my $req = ($fake->json_requests('llm'))[0] || {};
is($req->{model}, 'test-model', 'LLM model');
is($req->{stream}, JSON::PP::true, 'stream: true');
is_deeply($req->{messages}, [
    { role => 'system', content => 'You are a test. Be brief.' },
    { role => 'user', content => 'What are your opening hours today?' },
], 'system prompt and transcript');

# TTS got every sentence, in order

my @tts = $fake->tts_texts;
is_deeply(\@tts, ['We open at 9 a.m. every day.',
    'Dr. Smith is in until 5.30 p.m.', 'Anything else?'],
    'TTS got each sentence');
is((($fake->json_requests('tts'))[0] || {})->{model_id},
    'test-tts', 'TTS model_id');

# The provider requests' heads, recorded by the fake: each is there and
# has its request line, and none carries the caller's headers (Twilio's
# signed handshake: X-Twilio-Signature, the WebSocket keys, Upgrade)

for my $path (qw(stt llm tts)) {
    my @heads = $fake->request_heads($path);
    ok(@heads && !grep(!/^POST \/$path\n/, @heads),
        "$path: every request's head recorded") or diag explain \@heads;
    ok(@heads && !grep(/^(x-twilio-signature|upgrade|sec-websocket-[a-z]*):/mi,
        @heads), "$path: none of the caller's headers")
        or diag explain \@heads;
}

# the caller heard each sentence's audio, in order, with marks

my $heard = slurp("$dir/heard.raw");
my $want = 0;
$want += length($_) * 160 for @tts;
is(length($heard) / 2, $want, 'all the reply audio arrived');
my ($marks, $back) = $out =~ /(\d+) marks \((\d+) returned\)/;
is($marks, 3, 'a mark after each sentence');
is($back, 3, 'marks returned as played');

like($t->error_log, qr/caller said "What are your opening hours today\?"/,
    'transcript logged');

$t->stop;

done_testing;
