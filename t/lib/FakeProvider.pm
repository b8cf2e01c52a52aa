package FakeProvider;

# Fake STT, LLM and TTS servers speaking the providers' wire formats:
# OpenAI transcriptions (multipart WAV in, {"text"} out), OpenAI chat
# completions (SSE stream, word by word, with delays) and ElevenLabs-style
# TTS (JSON in, raw μ-law 8 kHz streamed in uneven chunks).  TTS audio is
# 160 bytes per character of text, every byte the sentence's tag (see
# tag), so tests can tell whose audio they hear.
#
# A test sets the fake's behaviour and reads back what it saw through
# methods; every setter returns the fake, so they chain.  A path is
# "stt", "llm", "tts", "tool_NAME" (/tool/NAME, a function's location),
# "twilio" (/twilio/..., Twilio's REST API) or "events..." (/events...,
# a call events receiver, answering 204).
#
#   reset                   forget every request and setting
#   transcripts(@texts)     STT answers: one per request, the last repeats
#                           (default "Hello.")
#   replies(@texts)         LLM answers: one per request, the last repeats
#                           (default "Hi there. How can I help?")
#   llm_script(@replies)    the same, each a text or { text => ..., calls =>
#                           [{ name => ..., arguments => ... }, ...] }: the
#                           text, then the calls streamed as OpenAI does
#                           (id and name first, the arguments a few bytes
#                           an event), ending with finish_reason
#                           "tool_calls"; call ids are call_<request>_<n>
#   tool_answer(name => body)  what /tool/NAME answers (default {"ok":true})
#   fail(path => status)    the next request of path gets that HTTP status
#   garbage(path)           the next request of path gets garbage: STT an
#                           HTML page, LLM a stream cut short without [DONE]
#   hang(path)              never answer path; nginx must give up
#   hang_once(path)         never answer the next request of path
#   delay(path => seconds)  answer the next request of path that late
#   tts_pcm(rate)           TTS answers a 1 kHz sine, PCM16LE at rate,
#                           20 ms per character of text
#   tts_wav(rate)           the same sine as a WAV file
#   tts_long(seconds)       the next TTS answer is that many seconds of
#                           audio (the text's tag), written 16 KB at a time
#                           with no pause: faster than nginx reads it
#   tts_first_write(n)      TTS writes the first n bytes of its audio (of a
#                           WAV file, header included) alone, then waits
#                           0.2 s before the rest, so that nginx reads them
#                           as one piece
#   tts_seconds(s)          TTS answers s seconds of μ-law whatever the
#                           text (still its tag), in one write: a burst
#   tts_speech              TTS answers the text spoken by espeak-ng, a
#                           WAV file at 22050 Hz (voice_tts_format wav):
#                           audio a line's echo of is like a voice's
#   tts_out_of_order        the first TTS request answers only once a later
#                           one has been answered whole (up to 5 s)
#   llm_endless             the LLM streams sentences for ever, until nginx
#                           closes the connection (see closed)
#   llm_waits_for_tts       before [DONE], the LLM waits (up to 5 s) for the
#                           first TTS request
#   tts_waits_for_media(log)  after the first half of its audio, TTS waits
#                           (up to 5 s) until log, the simulator's -v output,
#                           shows the caller got a media message
#
#   requests(path)          the bodies of the requests to path, in order
#                           (for twilio, the head's first line has the path)
#   json_requests(path)     the same, decoded from JSON
#   request_heads(path)     their heads: "METHOD /path\n" and a line
#                           "name: value\n" a header, names lowercase
#   tts_texts               the text of each TTS request, in order
#   llm_saw_tts             true when the LLM saw a TTS request before [DONE]
#   tts_saw_media           true when TTS saw the caller get audio mid-reply
#   tts_overtaken           true when a later TTS request finished before
#                           the first was answered
#   closed(path)            true when nginx closed a hung request of path,
#                           or an endless one (waits up to 5 s for it)
#
# Inside, the settings and what the server saw are files in the fake's
# directory, shared with the server's forked children (no test touches
# them): stt.text, llm.text (replies between "---" lines), fail.<path>,
# garbage.<path>, hang.<path>, hang_once.<path>, delay.<path>, tts.pcm,
# tts.wav, tts.long, tts.first_write, tts.seconds, tts.speech,
# tts.out_of_order, llm.endless, llm.waits_for_tts, tts.waits_for_media
# (the log's name) for the settings; for each request <id>-<path>.body and
# .head, <id> its number and the serving child's pid, and
# <id>-<path>.closed when nginx closed it hung or endless; llm.saw_tts,
# tts.saw_media, tts.overtaken and
# tts.sent.<id> for what the waits saw.  A one-time setting is taken by
# renaming its file, so two requests at once never both take it.

use strict;
use warnings;

use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(sleep);
use POSIX ();
use VoiceAudio qw(wav speak);

sub new {
    my ($class, %a) = @_;
    my $self = bless { dir => $a{dir}, n => 0 }, $class;
    -d $a{dir} or mkdir $a{dir} or die "$a{dir}: $!";
    my $l = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1',
        LocalPort => 0, ReuseAddr => 1) or die "listen: $!";
    $self->{port} = $l->sockport;

    my $pid = fork // die;
    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        my $n = 0;
        while (my $c = $l->accept) {
            $n++;
            my $child = fork;
            if (defined $child && $child == 0) {
                close $l;
                serve($self->{dir}, $c, $n);
                POSIX::_exit(0);
            }
            close $c;
        }
        POSIX::_exit(0);
    }

    close $l;
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }

# nginx's three provider locations, /_stt, /_llm and /_tts, pointed at
# this server as an operator would; llm => '...' adds lines to /_llm
sub locations {
    my ($self, %o) = @_;
    my $p = $self->{port};
    my $llm = $o{llm} ? "            $o{llm}\n" : '';
    return <<"CONF";
        location = /_stt {
            internal;
            proxy_pass http://127.0.0.1:$p/stt;
        }

        location = /_llm {
            internal;
            proxy_pass http://127.0.0.1:$p/llm;
            proxy_buffering off;
$llm        }

        location = /_tts {
            internal;
            proxy_pass http://127.0.0.1:$p/tts;
            proxy_buffering off;
        }
CONF
}

sub DESTROY {
    my ($self) = @_;
    kill 'KILL', $self->{pid} if $self->{pid};
}

# settings

sub set {
    my ($self, $name, $value) = @_;
    my $file = "$self->{dir}/$name";
    open my $fh, '>:raw', "$file.new" or die "$file: $!";
    print $fh $value // 1;
    close $fh;
    rename "$file.new", $file or die "$file: $!";
    return $self;
}

sub path_of {
    my ($path) = @_;
    $path =~ /^(stt|llm|tts|tool_\w+|twilio|events\w*)$/
        or die "no fake provider path \"$path\"\n";
    return $path;
}

sub reset {
    my ($self) = @_;
    unlink glob "$self->{dir}/*";
    return $self;
}

sub transcripts { $_[0]->set('stt.text', join "\n", @_[1 .. $#_]) }
sub replies { $_[0]->set('llm.text', join "\n---\n", @_[1 .. $#_]) }

sub llm_script {
    my ($self, @r) = @_;
    unlink "$self->{dir}/llm.text";
    return $self->set('llm.script', JSON::PP->new->canonical->encode(
        [ map { ref $_ ? $_ : { text => $_ } } @r ]));
}

sub tool_answer { $_[0]->set("tool.$_[1]", $_[2]) }

sub fail {
    my ($self, $path, $status) = @_;
    $status =~ /^\d{3}$/ or die "fail: \"$status\" is no HTTP status\n";
    return $self->set('fail.' . path_of($path), $status);
}

sub garbage { $_[0]->set('garbage.' . path_of($_[1])) }
sub hang { $_[0]->set('hang.' . path_of($_[1])) }
sub hang_once { $_[0]->set('hang_once.' . path_of($_[1])) }
sub delay { $_[0]->set('delay.' . path_of($_[1]), $_[2] + 0) }
sub tts_pcm { $_[0]->set('tts.pcm', $_[1] + 0) }
sub tts_wav { $_[0]->tts_pcm($_[1])->set('tts.wav') }
sub tts_long { $_[0]->set('tts.long', $_[1] + 0) }
sub tts_first_write { $_[0]->set('tts.first_write', $_[1] + 0) }
sub tts_seconds { $_[0]->set('tts.seconds', $_[1] + 0) }
sub tts_speech { $_[0]->set('tts.speech') }
sub tts_out_of_order { $_[0]->set('tts.out_of_order') }
sub llm_endless { $_[0]->set('llm.endless') }
sub llm_waits_for_tts { $_[0]->set('llm.waits_for_tts') }
sub tts_waits_for_media { $_[0]->set('tts.waits_for_media', $_[1]) }

# what the fake saw

# true when the server wrote that observation
sub saw { -e "$_[0]{dir}/$_[1]" ? 1 : 0 }
sub llm_saw_tts { $_[0]->saw('llm.saw_tts') }
sub tts_saw_media { $_[0]->saw('tts.saw_media') }
sub tts_overtaken { $_[0]->saw('tts.overtaken') }

sub recorded {
    my ($self, $path, $ext) = @_;
    return map { slurp($_) } sort glob "$self->{dir}/*-" . path_of($path)
        . ".$ext";
}

sub requests { $_[0]->recorded($_[1], 'body') }
sub request_heads { $_[0]->recorded($_[1], 'head') }

sub json_requests {
    my ($self, $path) = @_;
    return map { JSON::PP::decode_json($_) } $self->requests($path);
}

sub tts_texts { map { $_->{text} } $_[0]->json_requests('tts') }

sub closed {
    my ($self, $path) = @_;
    return wait_for("$self->{dir}/*-" . path_of($path) . '.closed');
}

# the server, in its forked children

sub slurp {
    my ($file) = @_;
    open my $fh, '<:raw', $file or return undef;
    local $/;
    return <$fh>;
}

sub touch {
    open my $fh, '>', $_[0] or die "$_[0]: $!";
    close $fh;
}

# a one-time setting: its value, for this request only
sub take {
    my ($file, $id) = @_;
    return undef unless rename $file, "$file.taken.$id";
    return slurp("$file.taken.$id") // '';
}

sub wait_for {
    my ($pattern) = @_;
    for (1 .. 500) {
        return 1 if my @g = glob $pattern;
        sleep 0.01;
    }
    return 0;
}

sub wait_for_media {
    my ($log) = @_;
    for (1 .. 500) {
        return 1 if (slurp($log) // '') =~ /< \{"event":"media"/;
        sleep 0.01;
    }
    return 0;
}

# the byte every sample of a text's TTS audio is made of
sub tag {
    my ($text) = @_;
    my $sum = 0;
    $sum += ord for split //, $text;
    return 0x40 + $sum % 64;
}

sub serve {
    my ($dir, $c, $n) = @_;
    binmode $c;
    local $/ = "\r\n";
    my $line = <$c> // return;
    my ($method, $path) = $line =~ m{^(\S+) (\S+)};
    my %h;
    while (my $l = <$c>) {
        last if $l eq "\r\n";
        $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*?)\r\n$/;
    }
    my $body = '';
    my $len = $h{'content-length'} // 0;
    while (length $body < $len) {
        my $r = read $c, $body, $len - length $body, length $body;
        last unless $r;
    }

    (my $name = $path) =~ s{^/}{};
    $name =~ s{[^a-z0-9]}{_}g;
    $name = 'twilio' if $path =~ m{^/twilio/};
    my $id = sprintf '%03d-%d', $n, $$;

    open my $fh, '>:raw', "$dir/$id-$name.body" or die $!;
    print $fh $body;
    close $fh;
    open $fh, '>', "$dir/$id-$name.head" or die $!;
    print $fh "$method $path\n", map { "$_: $h{$_}\n" } sort keys %h;
    close $fh;

    # this request's place among those of its path, from 1
    my $k = () = glob "$dir/*-$name.body";

    if (-e "$dir/hang.$name" || defined take("$dir/hang_once.$name", $id)) {
        # wait for nginx to give up on us
        my $buf;
        1 while sysread $c, $buf, 4096;
        open my $cl, '>', "$dir/$id-$name.closed";
        close $cl;
        return;
    }

    my $bad = defined take("$dir/garbage.$name", $id);

    if (my $st = take("$dir/fail.$name", $id)) {
        print $c "HTTP/1.1 $st Failed\r\nContent-Type: application/json\r\n"
            . "Connection: close\r\n\r\n"
            . '{"error":{"message":"fake failure","type":"x"}}';
        return;
    }

    if (my $d = take("$dir/delay.$name", $id)) {
        sleep $d;
    }

    if ($name eq 'stt' && $bad) {
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            . "Connection: close\r\n\r\n<html>oops</html>";
        return;
    }

    if ($name eq 'stt') {
        my @t = split /\n/, (slurp("$dir/stt.text") // "Hello.");
        my $text = $t[$k - 1 < $#t ? $k - 1 : $#t];
        $text =~ s/(["\\])/\\$1/g;
        print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            . "Connection: close\r\n\r\n{\"text\":\"$text\"}";
        return;
    }

    if ($name eq 'llm' && -e "$dir/llm.script") {
        my $script = JSON::PP::decode_json(slurp("$dir/llm.script"));
        stream_script($c, $script->[$k - 1 < $#$script ? $k - 1 : $#$script],
            $k);
        return;
    }

    if ($name =~ /^tool_(\w+)$/) {
        my $answer = slurp("$dir/tool.$1") // '{"ok":true}';
        print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            . "Content-Length: " . length($answer) . "\r\n"
            . "Connection: close\r\n\r\n$answer";
        return;
    }

    if ($name =~ /^events/) {
        # as webhooks often answer: no content
        print $c "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        return;
    }

    if ($name eq 'twilio') {
        my $answer = '{"sid":"CA0","status":"in-progress"}';
        print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            . "Content-Length: " . length($answer) . "\r\n"
            . "Connection: close\r\n\r\n$answer";
        return;
    }

    if ($name eq 'llm') {
        my @r = split /\n---\n/,
            (slurp("$dir/llm.text") // "Hi there. How can I help?");
        my $text = $r[$k - 1 < $#r ? $k - 1 : $#r];
        chomp $text;
        $c->autoflush(1);
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            . "Connection: close\r\n\r\n";
        print $c "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":"
            . "\"assistant\",\"content\":\"\"}}]}\n\n";
        if (-e "$dir/llm.endless") {
            local $SIG{PIPE} = 'IGNORE';
            for my $i (1 .. 1_000_000) {
                last unless print $c "data: {\"choices\":[{\"index\":0,"
                    . "\"delta\":{\"content\":\"This is sentence $i. \"}}]}\n\n";
                sleep 0.005;
            }
            touch("$dir/$id-$name.closed");
            return;
        }
        my @words = split /(?<= )/, $text;
        for my $w (@words) {
            (my $j = $w) =~ s/(["\\])/\\$1/g;
            $j =~ s/\n/\\n/g;
            my $ev = "data: {\"choices\":[{\"index\":0,\"delta\":"
                . "{\"content\":\"$j\"}}]}\n\n";
            # split each event across two writes
            my $half = int(length($ev) / 2);
            print $c substr($ev, 0, $half);
            sleep 0.01;
            print $c substr($ev, $half);
            sleep 0.03;
            return if $bad && $w eq $words[1];
        }
        if (-e "$dir/llm.waits_for_tts" && wait_for("$dir/*-tts.body")) {
            touch("$dir/llm.saw_tts");
        }
        print $c "data: {\"choices\":[{\"index\":0,\"delta\":{},"
            . "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        return;
    }

    if ($name eq 'tts') {
        my ($text) = $body =~ /"(?:text|input)":"((?:[^"\\]|\\.)*)"/;
        $text //= '';
        # a tone, 20 ms of audio per character, with the text's length
        # recoverable by the test: 160 bytes per character
        my $audio = chr(tag($text)) x (160 * length($text));
        my $burst = slurp("$dir/tts.seconds");
        $audio = chr(tag($text)) x (8000 * $burst) if $burst;
        if (my $rate = slurp("$dir/tts.pcm")) {
            $rate += 0;
            my $n = int($rate * 0.02) * length($text);
            $audio = pack 'v*', map {
                int(8000 * sin(2 * 3.14159265358979 * 1000 * $_ / $rate))
            } 0 .. $n - 1;
            $audio = wav($rate, $audio) if -e "$dir/tts.wav";
        }
        my $long = take("$dir/tts.long", $id);
        $audio = chr(tag($text)) x (8000 * $long) if $long;
        if (-e "$dir/tts.speech") {
            # the server's children are reaped by no one: espeak-ng's is
            local $SIG{CHLD} = 'DEFAULT';
            $audio = slurp(speak("$dir/$id-speech.wav", $text));
            unlink "$dir/$id-speech.wav";
        }
        $c->autoflush(1);
        my $out_of_order = -e "$dir/tts.out_of_order";
        if ($out_of_order && $k == 1) {
            touch("$dir/tts.overtaken") if wait_for("$dir/tts.sent.*");
        }
        print $c "HTTP/1.1 200 OK\r\nContent-Type: audio/basic\r\n"
            . "Connection: close\r\n\r\n";
        my $off = 0;
        my $i = 0;
        if (my $first = slurp("$dir/tts.first_write")) {
            print $c substr($audio, 0, $first);
            $off = $first;
            sleep 0.2;
        }
        my $media_log = slurp("$dir/tts.waits_for_media");
        while ($off < length $audio) {
            if (defined $media_log && $off >= length($audio) / 2) {
                touch("$dir/tts.saw_media") if wait_for_media($media_log);
                undef $media_log;
            }
            my $size = $long ? 16384 : $burst ? length $audio
                : (97, 333, 1200, 7)[$i++ % 4];
            print $c substr($audio, $off, $size);
            $off += $size;
            sleep 0.005 unless $long;
        }
        touch("$dir/tts.sent.$id") if $out_of_order;
        return;
    }

    print $c "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";
}

# One reply of llm_script as OpenAI streams it: each chunk a whole
# chat.completion.chunk, written in two halves
sub stream_script {
    my ($c, $r, $k) = @_;
    my $json = JSON::PP->new->canonical;
    my $seq = 0;
    my $chunk = sub {
        my ($delta, $finish) = @_;
        my $ev = 'data: ' . $json->encode({
            id => "chatcmpl-fake$k", object => 'chat.completion.chunk',
            created => 1700000000, model => 'gpt-4o-mini',
            system_fingerprint => 'fp_fake',
            choices => [ { index => 0, delta => $delta, logprobs => undef,
                finish_reason => $finish } ] }) . "\n\n";
        my $half = int(length($ev) / 2);
        print $c substr($ev, 0, $half);
        sleep 0.005;
        print $c substr($ev, $half);
        sleep 0.01;
    };
    my @calls = @{ $r->{calls} || [] };
    $c->autoflush(1);
    print $c "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        . "Connection: close\r\n\r\n";
    if (defined $r->{text}) {
        $chunk->({ role => 'assistant', content => '', refusal => undef });
        $chunk->({ content => $_ }) for split /(?<= )/, $r->{text};
    }
    my $i = 0;
    for my $call (@calls) {
        my $head = { index => $i, id => "call_${k}_$i", type => 'function',
            function => { name => $call->{name}, arguments => '' } };
        if ($i == 0 && !defined $r->{text}) {
            $chunk->({ role => 'assistant', content => undef,
                tool_calls => [$head], refusal => undef });
        } else {
            $chunk->({ tool_calls => [$head] });
        }
        my $args = $call->{arguments} // '{}';
        while (length $args) {
            my $piece = substr($args, 0, 3, '');
            $chunk->({ tool_calls => [ { index => $i,
                function => { arguments => $piece } } ] });
        }
        $i++;
    }
    $chunk->({}, @calls ? 'tool_calls' : 'stop');
    print $c "data: [DONE]\n\n";
}

1;
