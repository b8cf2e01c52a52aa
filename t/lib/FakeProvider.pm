package FakeProvider;

# Fake STT, LLM and TTS servers speaking the providers' wire formats:
# OpenAI transcriptions (multipart WAV in, {"text"} out), OpenAI chat
# completions (SSE stream, word by word, with delays) and ElevenLabs-style
# TTS (JSON in, raw μ-law 8 kHz streamed in uneven chunks).  Every request
# is recorded under the directory given, as NNN-<path>.body.
#
# Behaviour is set per test through files in that directory:
#   stt.text        the transcript (one line per request, the last repeats)
#   llm.text        the reply text; replies to successive requests are
#                   separated by lines of "---" (the last repeats)
#   fail.<path>     answer the next request of that path with this HTTP
#                   status instead (the file is removed)
#   hang.<path>     never answer that path; when nginx closes the
#                   connection, write NNN-<path>.closed
#   bad.<path>      answer garbage: STT "<html>", LLM a stream cut short
#                   without [DONE] (the file is removed)
#   tts.pcm         answer TTS with a 1 kHz sine as PCM16LE at the rate
#                   this file holds (e.g. 16000), 20 ms per character;
#                   with tts.wav too, as a WAV file
#   delay.stt       answer the first STT request this many seconds late
#   slow.tts        the first TTS request answers only once a later
#                   one has been answered whole (up to 5 s), so their
#                   audio arrives out of order; writes tts.overtaken
#   wait.llm        before [DONE], wait (up to 5 s) for the first TTS
#                   request; write llm.saw_tts if it came
#   wait.tts        after the first half of the audio, wait (up to 5 s)
#                   for media.seen (the test's observer writes it when
#                   the caller got audio); write tts.saw_media if it came
# TTS audio is 160 bytes per character of text, every byte the sentence's
# tag: 0x40 + (sum of the text's bytes) % 64, so tests can tell whose
# audio they hear.

use strict;
use warnings;

use IO::Socket::INET;
use Time::HiRes qw(sleep);
use POSIX ();

sub new {
    my ($class, %a) = @_;
    my $self = bless { dir => $a{dir}, n => 0 }, $class;
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

# the bodies of the requests made to one path, in the order they came
sub requests {
    my ($self, $name) = @_;
    return map { slurp($_) } sort glob "$self->{dir}/*-$name.body";
}

sub DESTROY {
    my ($self) = @_;
    kill 'KILL', $self->{pid} if $self->{pid};
}

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

sub wait_for {
    my ($pattern) = @_;
    for (1 .. 500) {
        return 1 if my @g = glob $pattern;
        sleep 0.01;
    }
    return 0;
}

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
    my $id = sprintf '%03d-%d', $n, $$;

    open my $fh, '>:raw', "$dir/$id-$name.body" or die $!;
    print $fh $body;
    close $fh;
    open $fh, '>', "$dir/$id-$name.head" or die $!;
    print $fh "$method $path\n", map { "$_: $h{$_}\n" } sort keys %h;
    close $fh;

    if (-e "$dir/hang.$name") {
        # wait for nginx to give up on us
        my $buf;
        1 while sysread $c, $buf, 4096;
        open my $cl, '>', "$dir/$id-$name.closed";
        close $cl;
        return;
    }

    my $bad = -e "$dir/bad.$name" && unlink "$dir/bad.$name";

    if (my $st = slurp("$dir/fail.$name")) {
        unlink "$dir/fail.$name";
        chomp $st;
        print $c "HTTP/1.1 $st Failed\r\nContent-Type: application/json\r\n"
            . "Connection: close\r\n\r\n"
            . '{"error":{"message":"fake failure","type":"x"}}';
        return;
    }

    if ($name eq 'stt' && $bad) {
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            . "Connection: close\r\n\r\n<html>oops</html>";
        return;
    }

    if ($name eq 'stt') {
        my @t = split /\n/, (slurp("$dir/stt.text") // "Hello.");
        my $k = () = glob "$dir/*-stt.body";
        if ($k == 1 and my $d = slurp("$dir/delay.stt")) {
            sleep $d;
        }
        my $text = $t[$k - 1 < $#t ? $k - 1 : $#t];
        $text =~ s/(["\\])/\\$1/g;
        print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            . "Connection: close\r\n\r\n{\"text\":\"$text\"}";
        return;
    }

    if ($name eq 'llm') {
        my @r = split /\n---\n/,
            (slurp("$dir/llm.text") // "Hi there. How can I help?");
        my $k = () = glob "$dir/*-llm.body";
        my $text = $r[$k - 1 < $#r ? $k - 1 : $#r];
        chomp $text;
        $c->autoflush(1);
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            . "Connection: close\r\n\r\n";
        print $c "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":"
            . "\"assistant\",\"content\":\"\"}}]}\n\n";
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
        if (-e "$dir/wait.llm" && wait_for("$dir/*-tts.body")) {
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
        if (my $rate = slurp("$dir/tts.pcm")) {
            $rate += 0;
            my $n = int($rate * 0.02) * length($text);
            $audio = pack 'v*', map {
                int(8000 * sin(2 * 3.14159265358979 * 1000 * $_ / $rate))
            } 0 .. $n - 1;
            if (-e "$dir/tts.wav") {
                $audio = 'RIFF' . pack('V', 36 + length $audio) . 'WAVEfmt '
                    . pack('VvvVVvv', 16, 1, 1, $rate, $rate * 2, 2, 16)
                    . 'data' . pack('V', length $audio) . $audio;
            }
        }
        $c->autoflush(1);
        if (-e "$dir/slow.tts") {
            my $k = () = glob "$dir/*-tts.body";
            if ($k == 1) {
                touch("$dir/tts.overtaken") if wait_for("$dir/tts.sent.*");
            }
        }
        print $c "HTTP/1.1 200 OK\r\nContent-Type: audio/basic\r\n"
            . "Connection: close\r\n\r\n";
        my $off = 0;
        my $k = 0;
        my $waited = !-e "$dir/wait.tts";
        while ($off < length $audio) {
            if (!$waited && $off >= length($audio) / 2) {
                $waited = 1;
                touch("$dir/tts.saw_media") if wait_for("$dir/media.seen");
            }
            my $size = (97, 333, 1200, 7)[$k++ % 4];
            print $c substr($audio, $off, $size);
            $off += $size;
            sleep 0.005;
        }
        touch("$dir/tts.sent.$id") if -e "$dir/slow.tts";
        return;
    }

    print $c "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";
}

1;
