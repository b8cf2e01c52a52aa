#!/usr/bin/perl

# The agent acts: the model's function calls, streamed as OpenAI streams
# them, go to nginx locations (the arguments whole, the call named in
# headers) and their results back to the model; a tool that fails or a
# function never declared gets an error result and the call goes on;
# end_call closes the stream once the goodbye was heard; transfer_call
# updates the live call through the Twilio API location, to a declared
# destination only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use VoiceTest qw(slurp spit);
use VoiceAudio qw(wav wav_pcm speak);
use FakeProvider;

my $t = VoiceTest->new;
my $dir = $t->prefix;
my $fake = FakeProvider->new(dir => "$dir/fake");
my $p = $fake->port;

my $json = JSON::PP->new->canonical;

my @functions = map { { type => 'function', function => {
        name => $_, description => "The $_ tool.",
        parameters => { type => 'object', properties => {} } } } }
    qw(check_order weather slow broken);
spit("$dir/tools.json", JSON::PP->new->pretty->encode(\@functions));

$t->run_agent($fake, <<"CONF");
        voice_system_prompt "Be brief.";
        voice_tools $dir/tools.json;
        voice_tool check_order /tools/check_order;
        voice_tool weather /tools/weather;
        voice_tool slow /tools/slow;
        voice_tool broken /tools/broken;

        location /media/ {
            voice_media_stream agent;
        }

        location /rounds/ {
            voice_media_stream agent;
            voice_llm_max_tool_rounds 2;
        }

        location /spec/ {
            voice_media_stream agent;
            voice_speculative on;
        }

        location /short/ {
            voice_media_stream agent;
            voice_llm_max_history 2;
        }

        location /end/ {
            voice_media_stream agent;
            voice_end_call on;
        }

        location /transfer/ {
            voice_media_stream agent;
            voice_transfer sales +15550100;
            voice_transfer desk sip:desk\@pbx.example.com;
            voice_twilio_api /_twilio/;
        }

        location /tools/ {
            internal;
            proxy_pass http://127.0.0.1:$p/tool/;
        }

        location = /tools/slow {
            internal;
            proxy_pass http://127.0.0.1:$p/tool/slow;
            proxy_read_timeout 1s;
        }

        location /_twilio/ {
            internal;
            proxy_pass http://127.0.0.1:$p/twilio/;
        }
CONF

my $q1 = 'Where is my order?';
my $q2 = 'Thank you.';
my ($rate, $pcm) = wav_pcm(slurp(speak("$dir/q1.wav", $q1, 160)));
my ($rate2, $pcm2) = wav_pcm(slurp(speak("$dir/q2.wav", $q2, 160)));
spit("$dir/one.wav", wav($rate, $pcm . "\0\0" x int($rate * 0.7)));
spit("$dir/two.wav", wav($rate, $pcm . "\0\0" x int($rate * 4)
    . $pcm2 . "\0\0" x int($rate * 0.7)));

sub call {
    my ($path, $wav, $silence) = @_;
    my ($rc, $out, $log) = $t->call($path, "--play $dir/$wav",
        "--silence-after $silence", '-v');
    return ($rc, $out, $log // '');
}

sub messages { @{ ($_[0] || {})->{messages} || [] } }

# every "tool" message of every request answers a call of the assistant
# message just before it (or of the tool messages before it), as OpenAI
# requires
sub exchanges_valid {
    my ($what) = @_;
    my @bad;
    for my $r ($fake->json_requests('llm')) {
        my %open;
        for my $m (messages($r)) {
            if ($m->{role} eq 'tool') {
                push @bad, $m->{tool_call_id}
                    unless delete $open{ $m->{tool_call_id} // '' };
                next;
            }
            push @bad, sort keys %open;
            %open = map { $_->{id} => 1 } @{ $m->{tool_calls} || [] };
        }
        push @bad, sort keys %open;
    }
    is("@bad", '', "$what: every call answered, every answer after its call");
}
sub heads { map { { head => $_ } } $fake->request_heads($_[0]) }
sub header {
    my ($head, $name) = @_;
    return ($head =~ /^\Q$name\E: (.*)$/m)[0];
}

# two calls in one reply, their arguments split across events, after a
# few words: each location gets its arguments exactly, the follow-up has
# the assistant's calls and both results, and the answer is heard

my $order = '{"order":"A-17","note":"caf\u00e9 \"x\""}';
my $city = '{"city":"Paris"}';
$fake->reset->transcripts($q1)
    ->tool_answer(check_order => '{"status":"shipped","eta":"tomorrow"}')
    ->tool_answer(weather => 'Sunny, 20 degrees.')
    ->llm_script({ text => 'Let me check that.', calls => [
            { name => 'check_order', arguments => $order },
            { name => 'weather', arguments => $city } ] },
        'Your order ships tomorrow. It is sunny.');

my ($rc, $out) = call('/media/two', 'one.wav', 4000);
is($rc, 0, 'the call completes') or diag $out;

is(join('|', $fake->requests('tool_check_order')), $order,
    'check_order got its arguments exactly, put back together');
is(join('|', $fake->requests('tool_weather')), $city,
    'weather got its own');

my ($head) = $fake->request_heads('tool_check_order');
like($head // '', qr{^POST /tool/check_order$}m, 'as a POST');
is(header($head // '', 'content-type'), 'application/json', 'of JSON');
like(header($head // '', 'x-voice-call-sid') // '', qr/^CA[0-9a-f]/,
    'naming the call');
like(header($head // '', 'x-voice-stream-sid') // '', qr/^MZ/,
    'and the stream');
is(header($head // '', 'x-voice-tool-call-id'), 'call_1_0',
    'and the tool call');

my @llm = $fake->json_requests('llm');
is(scalar @llm, 2, 'a follow-up request after the calls');
is_deeply([ map { $_->{function}{name} } @{ $llm[0]{tools} || [] } ],
    [qw(check_order weather slow broken)], 'the tools file is offered');
ok(!exists $llm[0]{tool_choice}, 'the model may call them');

my @m = messages($llm[1]);
my ($user) = grep { $m[$_]{role} eq 'user' } 0 .. $#m;
my $asst = $m[$user + 1] || {};
is($asst->{role}, 'assistant', 'the assistant\'s calls follow the question');
ok(exists $asst->{content} && !defined $asst->{content}, 'with content null');
is_deeply($asst->{tool_calls}, [
        { id => 'call_1_0', type => 'function', function => {
            name => 'check_order', arguments => $order } },
        { id => 'call_1_1', type => 'function', function => {
            name => 'weather', arguments => $city } } ],
    'both calls, ids, names and arguments as streamed');
is_deeply([ @m[$user + 2, $user + 3] ], [
        { role => 'tool', tool_call_id => 'call_1_0',
          content => '{"status":"shipped","eta":"tomorrow"}' },
        { role => 'tool', tool_call_id => 'call_1_1',
          content => 'Sunny, 20 degrees.' } ],
    'then one tool message per call, with its result');

is_deeply([ $fake->tts_texts ],
    ['Let me check that.', 'Your order ships tomorrow.', 'It is sunny.'],
    'the words before the calls, then the answer, are spoken');
like($out, qr/, [1-9]\d* media messages/, 'and heard');
exchanges_valid('two calls');

# a history too short for the exchange: no answer without its call

$fake->reset->transcripts($q1)->llm_script({ calls => [
        { name => 'check_order' }, { name => 'weather' } ] }, 'Done.');
($rc, $out) = call('/short/x', 'one.wav', 3000);
is($rc, 0, 'a short history: the call completes') or diag $out;
is(scalar $fake->json_requests('llm'), 2, 'with its follow-up');
exchanges_valid('voice_llm_max_history 2');

# a tool answering 500, one that never answers, a function never
# declared: each an error result, no request for the last, and the call
# goes on

$fake->reset->transcripts($q1, $q2)->hang('tool_slow')->fail(tool_broken => 500)
    ->llm_script({ calls => [ { name => 'broken' }, { name => 'slow' },
            { name => 'launch_rockets', arguments => '{"n":3}' } ] },
        'Sorry, I cannot look that up now.', 'You are welcome.');

($rc, $out) = call('/media/fail', 'two.wav', 3000);
is($rc, 0, 'failing tools: the call completes') or diag $out;

@llm = $fake->json_requests('llm');
is(scalar @llm, 3, 'the follow-up, and the next turn');
my %result = map { $_->{tool_call_id} => $_->{content} }
    grep { $_->{role} eq 'tool' } messages($llm[1]);
like($result{call_1_0} // '', qr/"error":"the tool failed with status 500"/,
    'a 500 is an error result');
like($result{call_1_1} // '', qr/"error":"the tool failed: no answer in time"/,
    'a timeout is one');
like($result{call_1_2} // '', qr/"error":"there is no such function"/,
    'an undeclared function is one');
ok(!$fake->requests('tool_launch_rockets'),
    'and the undeclared function got no request');
ok($fake->closed('tool_slow'), 'the hung tool\'s connection was closed');
is_deeply([ $fake->tts_texts ],
    ['Sorry, I cannot look that up now.', 'You are welcome.'],
    'the model\'s answer is heard, and the next turn too');
like($t->error_log, qr/tool "broken" at "\/tools\/broken" failed with status 500/,
    'the failure logged');
like($t->error_log, qr/the model called "launch_rockets", which is not declared/,
    'the undeclared call logged');
exchanges_valid('failing tools');

# the caller speaks while a tool runs: that reply is dropped, the tool's
# result still goes into the history for the turns after

spit("$dir/barge.wav", wav($rate, $pcm . "\0\0" x int($rate * 1.2) . $pcm2
    . "\0\0" x int($rate * 4) . $pcm2 . "\0\0" x int($rate * 0.7)));
$fake->reset->transcripts($q1, $q2, $q2)->delay(tool_check_order => 3)
    ->tool_answer(check_order => '{"status":"lost"}')
    ->llm_script({ calls => [ { name => 'check_order' } ] }, 'A.', 'B.');
($rc, $out) = call('/media/barge', 'barge.wav', 3000);
is($rc, 0, 'barge-in during a tool call: the call completes') or diag $out;
@llm = $fake->json_requests('llm');
is(scalar @llm, 3, 'no follow-up for the dropped reply, one per turn after');
my ($pending) = grep { $_->{role} eq 'tool' } messages($llm[1]);
like($pending->{content} // '', qr/no result yet/,
    'the turn during the tool call has its call, not answered yet');
my ($in) = grep { $_->{role} eq 'tool' } messages($llm[2]);
is($in->{content}, '{"status":"lost"}', 'the next turn has its result');
is_deeply([ $fake->tts_texts ], ['A.', 'B.'], 'the caller hears the turns after');
exchanges_valid('barge-in during a tool call');

# a speculative turn: its calls run once the caller is known to be done

$fake->reset->transcripts($q1)->llm_script({ calls => [
        { name => 'check_order', arguments => '{"order":"9"}' } ] },
    'It is on its way.');
($rc, $out) = call('/spec/x', 'one.wav', 3000);
is($rc, 0, 'speculative: the call completes') or diag $out;
is(join('|', $fake->requests('tool_check_order')), '{"order":"9"}',
    'speculative: the tool is called once');
is_deeply([ $fake->tts_texts ], ['It is on its way.'],
    'speculative: the answer is heard');
exchanges_valid('speculative');

# the caller hangs up while a tool runs: nothing of it outlives the call
# (the error log's check at the end would show it)

$fake->reset->transcripts($q1)->delay(tool_check_order => 3)
    ->llm_script({ calls => [ { name => 'check_order' } ] }, 'Late.');
($rc, $out) = call('/media/gone', 'one.wav', 1000);
is($rc, 0, 'hang-up during a tool call: the call ends') or diag $out;
ok(!$fake->tts_texts, 'nothing was said after it');

# at most voice_llm_max_tool_rounds rounds: then no tools, and a model
# that calls still is cut off

$fake->reset->transcripts($q1)
    ->llm_script({ calls => [ { name => 'check_order' } ] });
($rc, $out) = call('/rounds/x', 'one.wav', 3000);
is($rc, 0, 'too many rounds: the call completes') or diag $out;
@llm = $fake->json_requests('llm');
is(scalar @llm, 3, 'two rounds, then the last request');
is_deeply([ map { $_->{tool_choice} // 'auto' } @llm ], [qw(auto auto none)],
    'the last asks for words');
is(scalar $fake->requests('tool_check_order'), 2, 'two calls ran');
like($t->error_log, qr/called functions past "voice_llm_max_tool_rounds" \(2\)/,
    'the third is refused, logged');
is_deeply([ $fake->tts_texts ], ['Sorry, I am having trouble right now.',
    'Could you say that again?'], 'and the caller hears the apology');

# end_call: the goodbye is heard (its mark comes back) before the stream
# closes with 1000

$fake->reset->transcripts($q2)->llm_script({ text =>
        'Thank you for calling. Goodbye!', calls => [ { name => 'end_call' } ] });

my $log;
($rc, $out, $log) = call('/end/bye', 'one.wav', 8000);
like($out, qr/close 1000/, 'end_call closes the stream with 1000')
    or diag $out;
unlike($log, qr/> \{"event":"stop"/, 'before the caller hangs up');
@llm = $fake->json_requests('llm');
is(scalar @llm, 1, 'the goodbye said with the call: no follow-up');
ok((grep { $_->{function}{name} eq 'end_call' } @{ $llm[0]{tools} || [] }),
    'end_call is offered with voice_end_call on');
is_deeply([ $fake->tts_texts ], ['Thank you for calling.', 'Goodbye!'],
    'the goodbye is spoken');
my @from = grep { /^\S* ?< / } split /\n/, $log;
like($from[-1] // '', qr/"event":"mark"/,
    'the goodbye\'s mark came back before the close') or diag $from[-1];

# end_call alone: the follow-up says goodbye, then the close

$fake->reset->transcripts($q2)
    ->llm_script({ calls => [ { name => 'end_call' } ] }, 'Goodbye!');
($rc, $out, $log) = call('/end/alone', 'one.wav', 8000);
like($out, qr/close 1000/, 'end_call alone: closed with 1000') or diag $out;
@llm = $fake->json_requests('llm');
is(scalar @llm, 2, 'a follow-up for the goodbye');
like((grep { $_->{role} eq 'tool' } messages($llm[1]))[0]{content} // '',
    qr/the call ends once your words have been heard/,
    'the model is told the call ends');
is_deeply([ $fake->tts_texts ], ['Goodbye!'], 'the goodbye is spoken');

# transfer_call: after the hand-off, the live call is updated with a
# <Dial> to the declared destination

$fake->reset->transcripts($q1)->llm_script({ text =>
        'Let me put you through to sales.', calls => [ { name =>
            'transfer_call', arguments => '{"destination":"sales"}' } ] });
($rc, $out, $log) = call('/transfer/sales', 'one.wav', 8000);
like($out, qr/close 1000/, 'the stream closes once the call moved')
    or diag $out;
unlike($log, qr/> \{"event":"stop"/, 'before the caller hangs up');
@llm = $fake->json_requests('llm');
my ($offer) = grep { $_->{function}{name} eq 'transfer_call' }
    @{ $llm[0]{tools} || [] };
is_deeply($offer->{function}{parameters}{properties}{destination}{enum},
    [qw(sales desk)], 'transfer_call offers the declared names only');

my @tw = $fake->requests('twilio');
is(scalar @tw, 1, 'one update of the call');
($head) = $fake->request_heads('twilio');
like($head // '', qr{^POST /twilio/2010-04-01/Accounts/AC0{32}/Calls/CA[0-9a-f]+\.json$}m,
    'to the call\'s resource of the account');
is(header($head // '', 'content-type'), 'application/x-www-form-urlencoded',
    'form-encoded');
my ($twiml) = ($tw[0] // '') =~ /^Twiml=(.*)$/;
$twiml =~ s/%([0-9A-F]{2})/chr hex $1/ge if defined $twiml;
is($twiml, '<Response><Dial><Number>+15550100</Number></Dial></Response>',
    'a <Dial> to the destination declared');
is_deeply([ $fake->tts_texts ], ['Let me put you through to sales.'],
    'the hand-off is spoken');
@from = grep { /^\S* ?< / } split /\n/, $log;
like($from[-1] // '', qr/"event":"mark"/, 'and heard before the close');
like($t->error_log, qr/transferring the call to "sales"/, 'logged');

# a destination not declared: no request, an error for the model

$fake->reset->transcripts($q1)->llm_script({ calls => [ { name =>
            'transfer_call', arguments => '{"destination":"+19005550000"}' } ] },
    'Sorry, I cannot transfer you there.');
($rc, $out, $log) = call('/transfer/made-up', 'one.wav', 3000);
like($log, qr/> \{"event":"stop"/,
    'no transfer: the call goes on until the caller hangs up');
ok(!$fake->requests('twilio'), 'and Twilio gets no request');
@llm = $fake->json_requests('llm');
like((grep { $_->{role} eq 'tool' } messages($llm[1]))[0]{content} // '',
    qr/"error":"that destination is not one of the enum/,
    'the model is told');
is_deeply([ $fake->tts_texts ], ['Sorry, I cannot transfer you there.'],
    'and says so');

# Twilio refuses the update: logged, and the model tells the caller

$fake->reset->transcripts($q1)->fail(twilio => 401)->llm_script({ text =>
        'One moment.', calls => [ { name => 'transfer_call',
            arguments => '{"destination":"desk"}' } ] },
    'Sorry, the transfer did not work.');
($rc, $out, $log) = call('/transfer/refused', 'one.wav', 5000);
like($log, qr/> \{"event":"stop"/, 'a failed transfer: the call goes on');
($twiml) = (($fake->requests('twilio'))[0] // '') =~ /^Twiml=(.*)$/;
$twiml =~ s/%([0-9A-F]{2})/chr hex $1/ge if defined $twiml;
is($twiml, '<Response><Dial><Sip>sip:desk@pbx.example.com</Sip></Dial>'
    . '</Response>', 'a SIP destination is a <Sip>');
@llm = $fake->json_requests('llm');
is(scalar @llm, 2, 'the model is asked again');
like((grep { $_->{role} eq 'tool' } messages($llm[1]))[0]{content} // '',
    qr/"error":"the transfer failed with status 401"/,
    'with the failure as the result');
is_deeply([ $fake->tts_texts ], ['One moment.',
    'Sorry, the transfer did not work.'], 'which the caller hears');
like($t->error_log, qr/transfer "desk" at "\/_twilio\/2010-04-01\/Accounts\/[^"]+" failed with status 401/,
    'the failure logged');

$t->stop;

# the configuration, checked at load: a clear message for each mistake

my $c = VoiceTest->new;
my $cdir = $c->prefix;
spit("$cdir/bad.json", '[{"type":"function","function":{"name":"a b"}}]');
spit("$cdir/ok.json", '[{"type":"function","function":{"name":"lookup"}}]');
spit("$cdir/end.json", '[{"type":"function","function":{"name":"end_call"}}]');

for my $case (
    ["voice_tools $cdir/none.json;", qr/open\(\) "\Q$cdir\E\/none.json" failed/],
    ["voice_tools $cdir/bad.json;",
     qr/tools file "\Q$cdir\E\/bad.json" tool 1 has a name that is not 1 to 64/],
    ["voice_tools $cdir/ok.json;",
     qr/tools file "[^"]*ok.json" declares "lookup", which has no "voice_tool" location/],
    ["voice_tools $cdir/end.json; voice_tool end_call /t; voice_end_call on;",
     qr/declares "end_call", the function of "voice_end_call"/],
    ['voice_transfer sales +15550100;',
     qr/"voice_transfer" requires "voice_twilio_api"/],
    ['voice_tool lookup t;', qr/"voice_tool" directive needs a location's URI/],
    ['voice_llm_max_tool_rounds 0;',
     qr/"voice_llm_max_tool_rounds" must be 1 to 16/],
) {
    my ($line, $re) = @$case;
    $c->write_conf(<<"CONF");
    server {
        listen 127.0.0.1:%%PORT%%;
        voice_stt /s;
        voice_llm /l;
        voice_tts /t;
        location /m { voice_media_stream; $line }
    }
CONF
    my ($rc, $out) = $c->conf_test;
    isnt($rc, 0, "$line refused");
    like($out, $re, "$line: clear message") or diag $out;
}

# the declarations may sit at other levels than the stream's location

$c->write_conf(<<"CONF");
    voice_tools $cdir/ok.json;
    server {
        listen 127.0.0.1:%%PORT%%;
        voice_stt /s;
        voice_llm /l;
        voice_tts /t;
        voice_tool lookup /tools/lookup;
        location /m { voice_media_stream; voice_end_call on; }
    }
CONF
my ($crc, $cout) = $c->conf_test;
is($crc, 0, 'voice_tools in http, voice_tool in server: taken') or diag $cout;

done_testing;
