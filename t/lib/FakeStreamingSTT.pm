package FakeStreamingSTT;

# A fake streaming recognizer: a WebSocket server on loopback speaking
# Deepgram's live protocol at /v1/listen and OpenAI's realtime
# transcription at /v1/realtime?intent=transcription, a process per
# connection.  It does the server's half of RFC 6455 (the handshake and
# its Accept, unmasking, ping, fragments, the close handshake) and
# rejects what a real server rejects (unmasked or malformed frames).
#
# Each utterance is the audio from its first byte to the Finalize
# (Deepgram) or input_audio_buffer.commit (OpenAI) that ends it, and
# takes the next of the transcripts, counted over every connection, so a
# reconnecting client gets the next utterance's words.  While its audio
# arrives the fake sends interim results (Deepgram, with
# interim_results=true in the query; OpenAI, when the session's model is
# gpt-live-transcribe, deltas), each holding one more word; the final
# result answers Finalize (is_final, speech_final and from_finalize set)
# or commit (input_audio_buffer.committed, a delta a word, .completed).
# Without punctuate=true or smart_format=true in the query, Deepgram's
# words come lowercase without punctuation, as Deepgram's do.  Deepgram's
# connection closes (1011, NET-0001) after 10 s without audio or a text
# message; CloseStream gets the Metadata message and a close.
#
# Where it listens:
#
#   port                     its port on 127.0.0.1
#   listen_url([query])      ws://127.0.0.1:PORT/v1/listen?query
#   realtime_url             the same, /v1/realtime?intent=transcription
#
# Settings (each returns the fake, so they chain):
#
#   reset                    forget every connection and setting
#   transcripts(@texts)      the final transcript of each utterance, in
#                            order; the last repeats (default "Hello.")
#   interim_words(@words)    interim results carry these words instead of
#                            the transcript's; none: empty interim results
#   interim_every(bytes)     audio between interim results (default 4000)
#   speech_final_after(bytes)  Deepgram ends the utterance itself: after
#                            that much of its audio, a final result with
#                            speech_final and the whole transcript; the
#                            Finalize after it gets an empty one
#   final_delay(seconds)     answer Finalize or commit that late
#   drop_after_bytes(n [, k])  once, close the TCP connection without a
#                            close frame when an utterance (the k-th, from
#                            1, if given) has had n bytes of audio
#   refuse(status [, times]) answer the handshake with that HTTP status,
#                            every time or the next `times` ones
#   key(secret)              the handshake needs "Authorization: Token
#                            secret" (Deepgram) or "Bearer secret"
#                            (OpenAI), as the real servers; else 401
#   idle_timeout(seconds)    Deepgram's limit without data (default 10)
#
# What it saw, connection $i counted from 0 in the order they came:
#
#   connections              how many connections came (handshakes too)
#   wait_connections(n [, s])  true once n came (waits up to s, 10)
#   request($i)              the request line, "GET /v1/listen?... HTTP/1.1"
#   path($i), query($i)      its path, and its query as a hash
#   headers($i)              the request headers, a hash by lowercase name
#   audio($i)                every audio byte, in order (OpenAI: decoded
#                            from each append)
#   frames($i)               each audio frame as [time, offset, length]
#   utterances($i)           the audio cut at each Finalize or commit
#   messages($i)             every text message, decoded from JSON
#   message_log($i)          the same as {t => time received, at => audio
#                            bytes before it, text => raw, json => decoded}
#   keepalives($i)           when each KeepAlive came (times)
#   finalizes($i)            when each Finalize or commit came
#   sent($i)                 what the fake sent, decoded, as {t, json}
#   session($i)              OpenAI: the session as the updates left it:
#                            {format => "g711_ulaw", turn_detection =>
#                            undef, model => ...}
#   ended($i)                how it ended, '' while open: "client close
#                            CODE", "server close CODE", "eof", "drop",
#                            "refused STATUS", "bad handshake: why",
#                            "protocol error: why", "idle"
#   wait_ended($i [, s])     true once connection $i ended (up to s, 10)
#
# Inside, the settings and records are files in the fake's directory,
# shared with the forked children: settings by name (transcripts,
# interim.words, ...), a counter of utterances, and per connection a
# directory conn-NNN with request, headers, audio, frames, messages,
# sent, session and end.  Times are Time::HiRes time, the test's clock.

use strict;
use warnings;

use IO::Socket::INET;
use Fcntl qw(:flock);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use POSIX ();
use FakeProvider ();
use VoiceWS ();

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

# records keep raw bytes: each byte a character, escaped on the way out
my $rec = JSON::PP->new->canonical->ascii;
my $json = JSON::PP->new->canonical;

sub new {
    my ($class, %a) = @_;
    my $self = bless { dir => $a{dir} }, $class;
    -d $a{dir} or mkdir $a{dir} or die "$a{dir}: $!";
    my $l = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1',
        LocalPort => 0, ReuseAddr => 1) or die "listen: $!";
    $self->{port} = $l->sockport;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        my $n = 0;
        while (1) {
            my $c = $l->accept or next;
            $n++;
            my $conn = sprintf '%s/conn-%04d', $a{dir}, $n;
            mkdir $conn;
            my $child = fork;
            if (defined $child && $child == 0) {
                close $l;
                # never the test's END blocks or destructors: they would
                # stop its nginx
                eval { serve($a{dir}, $conn, $c) };
                note_end($conn, 'protocol error: fake died: ' . $@)
                    if $@;
                POSIX::_exit(0);
            }
            close $c;
        }
    }

    close $l;
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }

sub listen_url {
    my ($self, $query) = @_;
    return "ws://127.0.0.1:$self->{port}/v1/listen"
        . (defined $query ? "?$query" : '');
}

sub realtime_url {
    return "ws://127.0.0.1:$_[0]{port}/v1/realtime?intent=transcription";
}

# the HTTP fake's: the server stops with the fake; a setting is a file
{
    no warnings 'once';
    *DESTROY = \&FakeProvider::DESTROY;
    *set = \&FakeProvider::set;
    *slurp = \&FakeProvider::slurp;
}

# settings

sub reset {
    my ($self) = @_;
    system('rm', '-rf', glob("$self->{dir}/*"));
    return $self;
}

sub transcripts { $_[0]->set('transcripts', join "\n", @_[1 .. $#_]) }
sub interim_words { $_[0]->set('interim.words', join ' ', @_[1 .. $#_]) }
sub interim_every { $_[0]->set('interim.every', $_[1] + 0) }
sub speech_final_after { $_[0]->set('speech_final.after', $_[1] + 0) }
sub final_delay { $_[0]->set('final.delay', $_[1] + 0) }
sub key { $_[0]->set('key', $_[1]) }
sub idle_timeout { $_[0]->set('idle.timeout', $_[1] + 0) }

sub drop_after_bytes {
    my ($self, $n, $k) = @_;
    return $self->set('drop', ($n + 0) . ' ' . ($k // 0));
}

sub refuse {
    my ($self, $status, $times) = @_;
    $status =~ /^\d{3}$/ or die "refuse: \"$status\" is no HTTP status\n";
    return $self->set('refuse', "$status " . ($times // -1));
}

# what the fake saw

sub conns {
    my @c = glob "$_[0]{dir}/conn-*";
    return sort @c;
}

sub conn {
    my ($self, $i) = @_;
    my @c = $self->conns;
    return $c[$i] // "$self->{dir}/conn-none";
}

sub connections { scalar(my @c = $_[0]->conns) }

sub wait_until {
    my ($cond, $secs) = @_;
    my $end = time + ($secs // 10);
    while (1) {
        return 1 if $cond->();
        return 0 if time > $end;
        sleep 0.02;
    }
}

sub wait_connections {
    my ($self, $n, $secs) = @_;
    return wait_until(sub { $self->connections >= $n }, $secs);
}

sub ended { slurp($_[0]->conn($_[1]) . '/end') // '' }

sub wait_ended {
    my ($self, $i, $secs) = @_;
    return wait_until(sub { $self->ended($i) ne '' }, $secs);
}

sub request { slurp($_[0]->conn($_[1]) . '/request') // '' }

sub path {
    my ($target) = $_[0]->request($_[1]) =~ /^\S+ (\S+)/;
    return (split /\?/, $target // '', 2)[0];
}

sub query {
    my ($target) = $_[0]->request($_[1]) =~ /^\S+ (\S+)/;
    my (undef, $q) = split /\?/, $target // '', 2;
    return parse_query($q);
}

sub headers {
    my %h;
    for (split /\n/, slurp($_[0]->conn($_[1]) . '/headers') // '') {
        $h{$1} = $2 if /^([^:]+): (.*)$/;
    }
    return \%h;
}

sub audio { slurp($_[0]->conn($_[1]) . '/audio') // '' }

sub records {
    my ($file) = @_;
    return map { $rec->decode($_) } split /\n/, slurp($file) // '';
}

sub frames { map { [@$_] } records($_[0]->conn($_[1]) . '/frames') }

sub message_log {
    my ($self, $i) = @_;
    return map {
        my $j = eval { $json->decode($_->{text}) };
        +{ %$_, json => $j // { raw => $_->{text} } }
    } records($self->conn($i) . '/messages');
}

sub messages { map { $_->{json} } $_[0]->message_log($_[1]) }

sub times_of {
    my ($self, $i, @types) = @_;
    my %want = map { $_ => 1 } @types;
    return map { $_->{t} }
        grep { ref $_->{json} eq 'HASH' && $want{ $_->{json}{type} // '' } }
        $self->message_log($i);
}

sub keepalives { $_[0]->times_of($_[1], 'KeepAlive') }
sub finalizes {
    $_[0]->times_of($_[1], 'Finalize', 'input_audio_buffer.commit');
}

sub utterances {
    my ($self, $i) = @_;
    my $audio = $self->audio($i);
    my @cuts = map { $_->{at} } grep {
        ref $_->{json} eq 'HASH' && ($_->{json}{type} // '')
            =~ /^(Finalize|input_audio_buffer\.commit)$/
    } $self->message_log($i);
    my ($from, @u) = (0);
    for my $at (@cuts) {
        push @u, substr($audio, $from, $at - $from);
        $from = $at;
    }
    return @u;
}

sub sent {
    my ($self, $i) = @_;
    return map { +{ t => $_->{t}, json => $json->decode($_->{text}) } }
        records($self->conn($i) . '/sent');
}

sub session {
    my $s = slurp($_[0]->conn($_[1]) . '/session');
    return defined $s ? $json->decode($s) : {};
}

# the server, in its forked children

# appends one line to a record; a connection outliving a reset writes
# nowhere
sub append {
    my ($file, $data) = @_;
    open my $fh, '>>:raw', $file or return;
    print $fh $data;
    close $fh;
}

sub note_end {
    my ($conn, $how) = @_;
    return if -e "$conn/end";
    append("$conn/end", $how);
}

sub parse_query {
    my ($q) = @_;
    my %q;
    for (split /&/, $q // '') {
        my ($k, $v) = split /=/, $_, 2;
        s/\+/ /g, s/%([0-9a-fA-F]{2})/chr hex $1/ge for $k, $v;
        $q{$k} = $v // '';
    }
    return \%q;
}

sub setting { slurp("$_[0]{dir}/$_[1]") }

# n from a counter file shared by every connection, under a lock
sub counter_next {
    my ($file) = @_;
    open my $fh, '+>>', $file or die "$file: $!";
    flock $fh, LOCK_EX;
    seek $fh, 0, 0;
    my $n = (<$fh> // 0) + 1;
    truncate $fh, 0;
    print $fh $n;
    close $fh;
    return $n;
}

# a refusal, if one is due: its status
sub take_refusal {
    my ($dir) = @_;
    open my $fh, '+<', "$dir/refuse" or return undef;
    flock $fh, LOCK_EX;
    my ($status, $times) = split ' ', <$fh> // '';
    return undef if !$status || $times == 0;
    if ($times > 0) {
        seek $fh, 0, 0;
        truncate $fh, 0;
        print $fh "$status " . ($times - 1);
    }
    close $fh;
    return $status;
}

sub uuid {
    return join '-', map { join '', map { sprintf '%x', int rand 16 } 1 .. $_ }
        8, 4, 4, 4, 12;
}

sub serve {
    my ($dir, $conn, $c) = @_;
    binmode $c;
    $SIG{PIPE} = 'IGNORE';
    $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 900;

    my $s = bless { dir => $dir, conn => $conn, s => $c, buf => '',
        audio => 0, msg => undef, msg_op => 0 }, __PACKAGE__ . '::Conn';

    my $head = $s->read_until("\r\n\r\n", 10)
        // return note_end($conn, 'eof');
    $s->handshake($head) or return;
    $s->run;
}

package FakeStreamingSTT::Conn;

use MIME::Base64 qw(encode_base64 decode_base64);
use Digest::SHA qw(sha1_base64 sha256_hex);
use POSIX ();
use Time::HiRes qw(time);

BEGIN {
    *append = \&FakeStreamingSTT::append;
    *slurp = \&FakeStreamingSTT::slurp;
    *note_end = \&FakeStreamingSTT::note_end;
}

sub setting { FakeStreamingSTT::setting($_[0], $_[1]) }

# the client's reading and writing of the socket serve the server too
{
    no warnings 'once';
    *fill = \&VoiceWS::fill;
    *read_until = \&VoiceWS::read_until;
    *send_raw = \&VoiceWS::send_raw;
}

sub http_error {
    my ($s, $status, $why, %h) = @_;
    my %text = (400 => 'Bad Request', 401 => 'Unauthorized',
        403 => 'Forbidden', 404 => 'Not Found', 426 => 'Upgrade Required',
        429 => 'Too Many Requests', 500 => 'Internal Server Error',
        503 => 'Service Unavailable');
    my $body = $s->{dialect} && $s->{dialect} eq 'openai'
        ? $json->encode({ error => { type => 'invalid_request_error',
            code => $why, message => $why } })
        : $json->encode({ err_code => $why, err_msg => $why,
            request_id => FakeStreamingSTT::uuid() });
    my $extra = join '', map { "$_: $h{$_}\r\n" } sort keys %h;
    syswrite $s->{s}, "HTTP/1.1 $status " . ($text{$status} // 'Error')
        . "\r\nContent-Type: application/json\r\nContent-Length: "
        . length($body) . "\r\n${extra}Connection: close\r\n\r\n$body";
    return 0;
}

# validates the client's handshake and answers it: true when upgraded
sub handshake {
    my ($s, $head) = @_;
    my $conn = $s->{conn};
    my ($line, @lines) = split /\r\n/, $head;
    append("$conn/request", $line);
    my %h;
    for (@lines) {
        /^([^:]+):\s*(.*?)\s*$/ or next;
        my $k = lc $1;
        $h{$k} = exists $h{$k} ? "$h{$k}, $2" : $2;
    }
    append("$conn/headers", join '', map { "$_: $h{$_}\n" } sort keys %h);
    $s->{h} = \%h;

    my ($method, $target, $version) = split ' ', $line;
    my ($path, $q) = split /\?/, $target // '', 2;
    my $query = FakeStreamingSTT::parse_query($q);
    $s->{query} = $query;
    $s->{dialect} = ($path // '') eq '/v1/listen' ? 'deepgram'
        : ($path // '') eq '/v1/realtime' ? 'openai' : undef;

    my $bad = sub {
        my ($status, $why, %x) = @_;
        note_end($conn, "bad handshake: $why");
        return $s->http_error($status, $why, %x);
    };

    return $bad->(400, 'not GET over HTTP/1.1')
        unless ($method // '') eq 'GET' && ($version // '') eq 'HTTP/1.1';
    return $bad->(404, "no such path $path") unless $s->{dialect};
    return $bad->(400, 'no Host') unless defined $h{host};
    return $bad->(400, 'no Upgrade: websocket')
        unless grep { lc eq 'websocket' } split /\s*,\s*/, $h{upgrade} // '';
    return $bad->(400, 'no Connection: Upgrade')
        unless grep { lc eq 'upgrade' } split /\s*,\s*/, $h{connection} // '';
    return $bad->(426, 'Sec-WebSocket-Version is not 13',
        'Sec-WebSocket-Version' => 13)
        unless ($h{'sec-websocket-version'} // '') eq '13';
    my $key = $h{'sec-websocket-key'} // '';
    return $bad->(400, 'Sec-WebSocket-Key is not 16 bytes in base64')
        unless $key =~ m{^[A-Za-z0-9+/]{22}==$}
        && length(decode_base64($key)) == 16;
    return $bad->(400, 'intent=transcription missing')
        if $s->{dialect} eq 'openai'
        && ($query->{intent} // '') ne 'transcription';

    # Deepgram takes the key as a subprotocol too: "token, KEY"
    my @proto = split /\s*,\s*/, $h{'sec-websocket-protocol'} // '';
    $s->{protocol} = 'token' if @proto == 2 && $proto[0] eq 'token';

    if (defined(my $want = setting($s, 'key'))) {
        my $auth = $h{authorization} // '';
        my $ok = $s->{dialect} eq 'deepgram'
            ? ($auth eq "Token $want" || $auth eq "Bearer $want"
                || (@proto == 2 && $proto[0] eq 'token' && $proto[1] eq $want))
            : $auth eq "Bearer $want";
        if (!$ok) {
            note_end($conn, 'refused 401');
            return $s->http_error(401, $s->{dialect} eq 'openai'
                ? 'invalid_api_key' : 'INVALID_AUTH',
                $s->{dialect} eq 'deepgram'
                    ? ('dg-error' => 'Invalid credentials.') : ());
        }
    }

    if (my $status = FakeStreamingSTT::take_refusal($s->{dir})) {
        note_end($conn, "refused $status");
        return $s->http_error($status, 'refused by the test');
    }

    my $accept = sha1_base64($key . $GUID) . '=';
    my $resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        . "Connection: Upgrade\r\nSec-WebSocket-Accept: $accept\r\n";
    $resp .= "Sec-WebSocket-Protocol: token\r\n" if $s->{protocol};
    $resp .= 'dg-request-id: ' . FakeStreamingSTT::uuid() . "\r\n"
        if $s->{dialect} eq 'deepgram';
    syswrite $s->{s}, "$resp\r\n";
    return 1;
}

# a server's frames are the client's without the mask
sub send_frame {
    my ($s, $op, $p) = @_;
    return $s->send_raw(VoiceWS::frame(op => $op, payload => $p, mask => 0));
}

sub send_json {
    my ($s, $obj) = @_;
    my $text = $json->encode($obj);
    append("$s->{conn}/sent", $rec->encode({ t => time, text => $text })
        . "\n");
    return $s->send_frame(1, $text);
}

# starts the close handshake (or answers the client's)
sub close_with {
    my ($s, $code, $reason) = @_;
    return if $s->{close_sent}++;
    $s->{close_code} = $code;
    $s->send_frame(8, pack('n', $code) . ($reason // ''));
}

sub run {
    my ($s) = @_;
    my $dg = $s->{dialect} eq 'deepgram';
    $s->{idle_limit} = $dg ? (setting($s, 'idle.timeout') // 10) : 0;
    $s->{last_data} = time;
    $s->{timers} = [];
    $s->{session} = { format => 'pcm16', turn_detection => 'server_vad',
        model => undef };
    if (!$dg) {
        $s->{beta} = ($s->{h}{'openai-beta'} // '') =~ /realtime=v1/;
        $s->send_json({ type => $s->{beta} ? 'transcription_session.created'
                : 'session.created', event_id => 'event_' . ++$s->{ev},
            session => $s->session_object });
        $s->save_session;
    }

    while (1) {
        my $now = time;
        my @due = grep { $_->[0] <= $now } @{ $s->{timers} };
        $s->{timers} = [ grep { $_->[0] > $now } @{ $s->{timers} } ];
        $_->[1]->() for @due;
        return if $s->{done};

        if ($s->{idle_limit} && !$s->{close_sent}
            && $now - $s->{last_data} >= $s->{idle_limit})
        {
            note_end($s->{conn}, 'idle');
            $s->close_with(1011, 'Deepgram did not receive audio data or a '
                . 'text message within the timeout window. See '
                . 'https://dpgr.am/net0001');
            $s->{closing_until} = $now + 2;
        }
        if ($s->{closing_until} && $now > $s->{closing_until}) {
            close $s->{s};
            return;
        }

        my $wait = 0.05;
        my $n = $s->fill($wait);
        if ($n < 0) {
            note_end($s->{conn}, 'eof');
            return;
        }
        while (defined(my $f = $s->next_frame)) {
            return if $f eq 'stop' || !$s->frame(@$f) || $s->{done};
        }
    }
}

# the next whole frame from the input: [fin, opcode, payload], undef when
# more bytes are needed, 'stop' after a protocol error
sub next_frame {
    my ($s) = @_;
    my $b = $s->{buf};
    my ($b0, $masked, $len, $off) = VoiceWS::frame_head($b) or return undef;
    return $s->fail(1002, 'unmasked frame') unless $masked;
    return $s->fail(1002, 'reserved bits set') if $b0 & 0x70;
    return $s->fail(1009, 'frame too big') if $len > 4 * 1024 * 1024;
    return undef if length $b < $off + 4 + $len;
    my $key = substr $b, $off, 4;
    my $p = substr $b, $off + 4, $len;
    $p ^= substr($key x (int($len / 4) + 1), 0, $len);
    substr $s->{buf}, 0, $off + 4 + $len, '';
    return [$b0 & 0x80, $b0 & 0x0f, $p];
}

sub fail {
    my ($s, $code, $why) = @_;
    note_end($s->{conn}, "protocol error: $why");
    $s->close_with($code, $why);
    close $s->{s};
    return 'stop';
}

# one frame: false when the connection is over
sub frame {
    my ($s, $fin, $op, $p) = @_;
    if ($op >= 8) {
        return $s->fail(1002, 'control frame fragmented or too long') ne 'stop'
            if !$fin || length $p > 125;
        if ($op == 8) {
            my $code = length $p >= 2 ? unpack('n', $p) : 1005;
            if ($s->{close_sent}) {
                note_end($s->{conn}, "server close $s->{close_code}");
            } else {
                note_end($s->{conn}, "client close $code");
                $s->close_with($code == 1005 ? 1000 : $code);
            }
            close $s->{s};
            return 0;
        }
        $s->send_frame(10, $p) if $op == 9;
        return 1;
    }

    if ($op == 0) {
        return $s->fail(1002, 'continuation without a message') ne 'stop'
            unless defined $s->{msg};
        $s->{msg} .= $p;
    } elsif ($op == 1 || $op == 2) {
        return $s->fail(1002, 'new message inside a fragmented one') ne 'stop'
            if defined $s->{msg};
        $s->{msg} = $p;
        $s->{msg_op} = $op;
    } else {
        return $s->fail(1002, "unknown opcode $op") ne 'stop';
    }
    return 1 unless $fin;

    my $msg = delete $s->{msg};
    if ($s->{msg_op} == 1) {
        my $copy = $msg;
        return $s->fail(1007, 'text is not UTF-8') ne 'stop'
            unless utf8::decode($copy);
        return $s->text($msg);
    }
    return $s->binary($msg);
}

sub record_audio {
    my ($s, $bytes) = @_;
    append("$s->{conn}/frames", $rec->encode([time, $s->{audio},
        length $bytes]) . "\n");
    append("$s->{conn}/audio", $bytes);
    $s->{audio} += length $bytes;
    $s->{last_data} = time;
}

sub binary {
    my ($s, $bytes) = @_;
    if ($s->{dialect} eq 'openai') {
        $s->error_event('invalid_request_error', 'invalid_binary',
            'binary frames are not accepted: send input_audio_buffer.append');
        return 1;
    }
    $s->record_audio($bytes);
    return $s->close_stream if $bytes eq '';   # Deepgram's old close
    return $s->audio_in($bytes);
}

sub text {
    my ($s, $text) = @_;
    append("$s->{conn}/messages", $rec->encode({ t => time,
        at => $s->{audio}, text => $text }) . "\n");
    $s->{last_data} = time;
    my $m = eval { $json->decode($text) };
    my $type = ref $m eq 'HASH' ? $m->{type} // '' : '';

    if ($s->{dialect} eq 'deepgram') {
        return $s->finalize if $type eq 'Finalize';
        return $s->close_stream if $type eq 'CloseStream';
        return 1;                       # KeepAlive, and what it ignores
    }

    if (!$m) {
        $s->error_event('invalid_request_error', 'invalid_json',
            'the message is not JSON');
    } elsif ($type eq 'transcription_session.update'
        || $type eq 'session.update')
    {
        $s->update_session($m->{session} || {});
        $s->send_json({ type => $type =~ s/update$/updated/r,
            event_id => 'event_' . ++$s->{ev},
            session => $s->session_object });
    } elsif ($type eq 'input_audio_buffer.append') {
        my $b64 = $m->{audio} // '';
        if ($b64 !~ m{^[A-Za-z0-9+/]*={0,2}$} || length($b64) % 4) {
            $s->error_event('invalid_request_error', 'invalid_value',
                'audio is not base64');
        } else {
            my $bytes = decode_base64($b64);
            $s->record_audio($bytes);
            $s->audio_in($bytes) if length $bytes;
        }
    } elsif ($type eq 'input_audio_buffer.commit') {
        return $s->commit;
    } elsif ($type eq 'input_audio_buffer.clear') {
        $s->{utt} = undef;
        $s->send_json({ type => 'input_audio_buffer.cleared',
            event_id => 'event_' . ++$s->{ev} });
    } else {
        $s->error_event('invalid_request_error', 'invalid_value',
            "Invalid value: '$type'. Supported values are: ...");
    }
    return 1;
}

sub error_event {
    my ($s, $type, $code, $message) = @_;
    $s->send_json({ type => 'error', event_id => 'event_' . ++$s->{ev},
        error => { type => $type, code => $code, message => $message,
            param => undef, event_id => undef } });
}

# the utterance in progress, taken at its first audio byte
sub utterance {
    my ($s, $start) = @_;
    return $s->{utt} if $s->{utt};
    my $n = FakeStreamingSTT::counter_next("$s->{dir}/utterances");
    my @t = split /\n/, setting($s, 'transcripts') // 'Hello.', -1;
    @t = ('') unless @t;
    my $text = $t[$n - 1 < $#t ? $n - 1 : $#t];
    my @interim = split ' ', setting($s, 'interim.words') // $text;
    return $s->{utt} = { n => $n, text => $text, bytes => 0,
        start => $start, interim => \@interim, interims => 0,
        deltas => 0, final_words => 0,
        item => 'item_' . FakeStreamingSTT::uuid() =~ s/-//gr };
}

sub bytes_per_second {
    my ($s) = @_;
    return 24000 * 2 if $s->{dialect} eq 'openai'
        && $s->{session}{format} eq 'pcm16';
    return 8000 if $s->{dialect} eq 'openai';
    my $q = $s->{query};
    my $rate = $q->{sample_rate} || 16000;
    my $width = ($q->{encoding} // '') =~ /^(mulaw|alaw)$/ ? 1 : 2;
    return $rate * $width * ($q->{channels} || 1);
}

sub audio_in {
    my ($s, $bytes) = @_;
    my $u = $s->utterance($s->{audio} - length $bytes);
    my $was = $u->{bytes};
    $u->{bytes} += length $bytes;

    if ($s->{dialect} eq 'deepgram' && $was == 0
        && ($s->{query}{vad_events} // '') eq 'true')
    {
        $s->send_json({ type => 'SpeechStarted', channel => [0],
            timestamp => $u->{start} / $s->bytes_per_second });
    }

    if (defined(my $d = setting($s, 'drop'))) {
        my ($n, $k) = split ' ', $d;
        if ($u->{bytes} >= $n && (!$k || $k == $u->{n})
            && rename "$s->{dir}/drop", "$s->{dir}/drop.taken")
        {
            note_end($s->{conn}, 'drop');
            close $s->{s};
            $s->{done} = 1;
            return 0;
        }
    }

    my $every = setting($s, 'interim.every') || 4000;
    my $live = $s->{dialect} eq 'deepgram'
        ? ($s->{query}{interim_results} // '') eq 'true'
        : ($s->{session}{model} // '') eq 'gpt-live-transcribe';
    while ($live && int($u->{bytes} / $every) > $u->{interims}) {
        $u->{interims}++;
        last if $u->{final_words};
        if ($s->{dialect} eq 'deepgram') {
            my @w = @{ $u->{interim} };
            @w = @w[0 .. ($u->{interims} > @w ? $#w : $u->{interims} - 1)];
            $s->results(join(' ', @w), is_final => 0);
        } elsif ($u->{deltas} < @{ $u->{interim} }) {
            $s->delta($u, $u->{interim}[$u->{deltas}], $u->{deltas} > 0);
            $u->{deltas}++;
        }
    }

    my $sf = setting($s, 'speech_final.after');
    if ($s->{dialect} eq 'deepgram' && $sf && !$u->{final_words}
        && $u->{bytes} >= $sf)
    {
        $s->results($u->{text}, is_final => 1, speech_final => 1);
        $u->{final_words} = 1;
    }
    return 1;
}

# Deepgram's words as its options give them
sub dg_words {
    my ($s, $text) = @_;
    my $q = $s->{query};
    return $text if ($q->{punctuate} // '') eq 'true'
        || ($q->{smart_format} // '') eq 'true';
    $text = lc $text;
    $text =~ s/[.,?!;:"]//g;
    return join ' ', split ' ', $text;
}

sub results {
    my ($s, $text, %f) = @_;
    my $u = $s->{utt};
    my $bps = $s->bytes_per_second;
    my $start = $u->{start} / $bps;
    my $dur = $u->{bytes} / $bps;
    $text = $s->dg_words($text);
    my @w = split ' ', $text;
    my $i = 0;
    my @words = map {
        my $t0 = $start + $dur * $i / @w;
        my $t1 = $start + $dur * ++$i / @w;
        (my $bare = lc $_) =~ s/[.,?!;:"]//g;
        { word => $bare, start => $t0, end => $t1, confidence => 0.98,
          punctuated_word => $_ }
    } @w;
    $s->send_json({ type => 'Results', channel_index => [0, 1],
        duration => $dur, start => $start,
        is_final => $f{is_final} ? JSON::PP::true : JSON::PP::false,
        speech_final => $f{speech_final} ? JSON::PP::true : JSON::PP::false,
        from_finalize => $f{from_finalize} ? JSON::PP::true : JSON::PP::false,
        channel => { alternatives => [{ transcript => $text,
            confidence => @w ? 0.98 : 0, words => \@words }] },
        metadata => { request_id => 'fake', model_uuid => 'fake',
            model_info => { name => 'fake', version => '1', arch => 'fake' } },
    });
}

sub delta {
    my ($s, $u, $word, $space) = @_;
    $s->send_json({ type => 'conversation.item.input_audio_transcription.delta',
        event_id => 'event_' . ++$s->{ev}, item_id => $u->{item},
        content_index => 0, delta => ($space ? ' ' : '') . $word });
}

sub later {
    my ($s, $what) = @_;
    my $d = setting($s, 'final.delay') || 0;
    return $what->() unless $d > 0;
    push @{ $s->{timers} }, [time + $d, $what];
    return 1;
}

sub finalize {
    my ($s) = @_;
    my $u = delete $s->{utt} // { text => '', bytes => 0,
        start => $s->{audio}, final_words => 1 };
    return $s->later(sub {
        local $s->{utt} = $u;
        $s->results($u->{final_words} ? '' : $u->{text}, is_final => 1,
            speech_final => 1, from_finalize => 1);
        if (defined $s->{query}{utterance_end_ms}) {
            $s->send_json({ type => 'UtteranceEnd', channel => [0, 1],
                last_word_end => ($u->{start} + $u->{bytes})
                    / $s->bytes_per_second });
        }
        1;
    });
}

sub close_stream {
    my ($s) = @_;
    $s->finalize if $s->{utt};
    $_->[1]->() for @{ $s->{timers} };
    $s->{timers} = [];
    $s->send_json({ type => 'Metadata', transaction_key => 'deprecated',
        request_id => 'fake', sha256 => sha256_hex(slurp("$s->{conn}/audio")
            // ''), created => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime),
        duration => $s->{audio} / $s->bytes_per_second, channels => 1 });
    $s->close_with(1000);
    $s->{closing_until} = time + 2;
    $s->{idle_limit} = 0;
    return 1;
}

sub commit {
    my ($s) = @_;
    my $u = $s->{utt};
    my $ms = $u ? $u->{bytes} * 1000 / $s->bytes_per_second : 0;
    if ($ms < 100) {
        $s->error_event('invalid_request_error',
            'input_audio_buffer_commit_empty', sprintf('Error committing '
                . 'input audio buffer: buffer too small. Expected at least '
                . '100ms of audio, but buffer only has %.2fms of audio.', $ms));
        return 1;
    }
    delete $s->{utt};
    $s->send_json({ type => 'input_audio_buffer.committed',
        event_id => 'event_' . ++$s->{ev}, item_id => $u->{item},
        previous_item_id => $s->{last_item} });
    $s->{last_item} = $u->{item};
    return $s->later(sub {
        # the words the early deltas have not given yet
        my @w = split ' ', $u->{text};
        my $from = $u->{deltas} && defined setting($s, 'interim.words')
            ? @w : $u->{deltas};
        $s->delta($u, $w[$_], $_ > 0) for $from .. $#w;
        $s->send_json({
            type => 'conversation.item.input_audio_transcription.completed',
            event_id => 'event_' . ++$s->{ev}, item_id => $u->{item},
            content_index => 0, transcript => $u->{text},
            usage => { type => 'duration',
                seconds => $u->{bytes} / $s->bytes_per_second } });
        1;
    });
}

# the OpenAI session, from either shape of update: the beta's
# transcription_session.update or session.update with type transcription
sub update_session {
    my ($s, $in) = @_;
    my $ss = $s->{session};
    my $input = ref $in->{audio} eq 'HASH' ? $in->{audio}{input} || {} : {};
    my %types = ('audio/pcmu' => 'g711_ulaw', 'audio/pcma' => 'g711_alaw',
        'audio/pcm' => 'pcm16');
    for my $shape ([$in, qw(input_audio_format input_audio_transcription)],
        [$input, qw(format transcription)])
    {
        my ($o, $format, $tr) = @$shape;
        if (exists $o->{$format}) {
            $ss->{format} = ref $o->{$format}
                ? $types{ $o->{$format}{type} // '' } // 'unknown'
                : $o->{$format};
        }
        if (exists $o->{$tr}) {
            @$ss{qw(model language)} = @{ $o->{$tr} || {} }{qw(model language)};
        }
        if (exists $o->{turn_detection}) {
            $ss->{turn_detection} = $o->{turn_detection}
                && ($o->{turn_detection}{type} // 'server_vad');
        }
    }
    $s->save_session;
}

sub save_session {
    my ($s) = @_;
    open my $fh, '>', "$s->{conn}/session.new" or return;
    print $fh $json->encode($s->{session});
    close $fh;
    rename "$s->{conn}/session.new", "$s->{conn}/session";
}

sub session_object {
    my ($s) = @_;
    my $ss = $s->{session};
    return {
        id => 'sess_fake', object => 'realtime.transcription_session',
        input_audio_format => $ss->{format},
        input_audio_transcription => $ss->{model}
            ? { model => $ss->{model}, language => $ss->{language} } : undef,
        turn_detection => $ss->{turn_detection}
            ? { type => $ss->{turn_detection}, threshold => 0.5,
                prefix_padding_ms => 300, silence_duration_ms => 500 }
            : undef,
    };
}

1;
