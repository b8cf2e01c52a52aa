package VoiceWS;

# A WebSocket client that plays Twilio for the tests: raw control over the
# handshake and every frame bit, so broken peers can be played too.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use MIME::Base64 qw(encode_base64 decode_base64);
use Digest::SHA qw(sha1_base64);
use JSON::PP;
use Time::HiRes qw(time);

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
my $json = JSON::PP->new->canonical;

# Sends a handshake; returns the client, or (undef, status, headers) when
# the server did not switch protocols.
sub connect {
    my ($class, %a) = @_;
    my $s;
    if ($a{rcvbuf}) {
        # before the connect, so the window it advertises is small too
        $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
        setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(),
            pack('i', $a{rcvbuf}));
        $s->connect(Socket::pack_sockaddr_in($a{port},
            Socket::inet_aton('127.0.0.1'))) or die "connect: $!";
    } else {
        $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$a{port}")
            or die "connect: $!";
    }
    binmode $s;
    my $key = $a{key} // encode_base64(join('', map { chr int rand 256 } 1 .. 16), '');
    my %h = (
        Host => $a{host} // 'localhost',
        Upgrade => 'websocket',
        Connection => 'Upgrade',
        'Sec-WebSocket-Key' => $key,
        'Sec-WebSocket-Version' => 13,
        %{ $a{headers} || {} },
    );
    my $req = ($a{method} // 'GET') . " $a{path} " . ($a{version} // 'HTTP/1.1')
        . "\r\n" . join('', map { defined $h{$_} ? "$_: $h{$_}\r\n" : '' }
        sort keys %h) . "\r\n";
    $req .= $a{after} if defined $a{after};
    syswrite $s, $req;

    my $self = bless { s => $s, buf => '', key => $key }, $class;
    my $head = $self->read_until("\r\n\r\n", 5) // '';
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
    my %rh;
    for (split /\r\n/, $head) {
        $rh{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    $self->{status} = $status // 0;
    $self->{headers} = \%rh;
    return $self;
}

sub status { $_[0]{status} }
sub headers { $_[0]{headers} }
sub socket { $_[0]{s} }

sub expected_accept {
    my ($self) = @_;
    my $a = sha1_base64($self->{key} . $GUID);
    return $a . '=';
}

sub fill {
    my ($self, $timeout) = @_;
    my $sel = IO::Select->new($self->{s});
    return 0 unless $sel->can_read($timeout);
    my $n = sysread $self->{s}, my $chunk, 65536;
    return -1 unless $n;
    $self->{buf} .= $chunk;
    return $n;
}

sub read_until {
    my ($self, $delim, $timeout) = @_;
    my $end = time + $timeout;
    while (1) {
        my $i = index $self->{buf}, $delim;
        if ($i >= 0) {
            return substr $self->{buf}, 0, $i + length($delim), '';
        }
        my $left = $end - time;
        return undef if $left <= 0 || $self->fill($left) <= 0;
    }
}

# frame bytes: opcode, payload, fin (default 1), mask (default 1), rsv
sub frame {
    my (%f) = @_;
    my $fin = $f{fin} // 1;
    my $masked = $f{mask} // 1;
    my $p = $f{payload} // '';
    my $len = length $p;
    my $b = chr(($fin ? 0x80 : 0) | (($f{rsv} // 0) << 4) | $f{op});
    my $m = $masked ? 0x80 : 0;
    if ($len < 126) {
        $b .= chr($m | $len);
    } elsif ($len < 65536) {
        $b .= chr($m | 126) . pack('n', $len);
    } else {
        $b .= chr($m | 127) . pack('Q>', $len);
    }
    if ($masked) {
        my $key = $f{key} // join '', map { chr int rand 256 } 1 .. 4;
        $b .= $key;
        my $mask = substr($key x (int($len / 4) + 1), 0, $len);
        $p = $p ^ $mask;
    }
    return $b . $p;
}

sub send_raw {
    my ($self, $bytes) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite $self->{s}, $bytes, length($bytes) - $off, $off;
        return 0 unless defined $n;
        $off += $n;
    }
    return 1;
}

sub send_frame {
    my ($self, %f) = @_;
    return $self->send_raw(frame(%f));
}

sub send_text { $_[0]->send_frame(op => 1, payload => $_[1]) }
sub send_json { $_[0]->send_text($json->encode($_[1])) }

# The head of the frame that bytes begin with: (its first byte, the
# mask bit, the payload's length, the length of the head up to the mask
# key), () while it is incomplete.
sub frame_head {
    my ($b) = @_;
    return () if length $b < 2;
    my ($b0, $b1) = unpack 'CC', $b;
    my ($len, $off) = ($b1 & 0x7f, 2);
    if ($len == 126) {
        return () if length $b < 4;
        ($len, $off) = (unpack('n', substr $b, 2, 2), 4);
    } elsif ($len == 127) {
        return () if length $b < 10;
        ($len, $off) = (unpack('Q>', substr $b, 2, 8), 10);
    }
    return ($b0, $b1 & 0x80, $len, $off);
}

# Next server frame: (opcode, payload), () on timeout or EOF.  Server
# frames must not be masked.
sub read_frame {
    my ($self, $timeout) = @_;
    $timeout //= 5;
    my $end = time + $timeout;
    while (1) {
        my $b = $self->{buf};
        if (my ($b0, $masked, $len, $off) = frame_head($b)) {
            die "server frame is masked" if $masked;
            if (length $b >= $off + $len) {
                substr $self->{buf}, 0, $off + $len, '';
                return ($b0 & 0x0f, substr($b, $off, $len), $b0 & 0x80);
            }
        }
        my $left = $end - time;
        return () if $left <= 0 || $self->fill($left) <= 0;
    }
}

# Reads frames until a close frame: returns (close code, reason, \@messages)
sub read_close {
    my ($self, $timeout) = @_;
    my @msgs;
    while (my ($op, $p) = $self->read_frame($timeout)) {
        if ($op == 8) {
            return (length $p >= 2 ? unpack('n', $p) : 1005,
                length $p > 2 ? substr($p, 2) : '', \@msgs);
        }
        push @msgs, $op == 1 ? decode_json_safe($p) : [$op, $p];
    }
    return (undef, undef, \@msgs);
}

# True when the server closed the TCP connection within the timeout.
sub eof_within {
    my ($self, $timeout) = @_;
    my $end = time + $timeout;
    while (time < $end) {
        my $n = $self->fill($end - time);
        return 1 if $n < 0;
        return 0 if $n == 0;
        $self->{buf} = '';
    }
    return 0;
}

sub decode_json_safe {
    my ($p) = @_;
    my $v = eval { $json->decode($p) };
    return $v // { raw => $p };
}

sub encode { $json->encode($_[0]) }

# the messages of one event among those read_close returned
sub events {
    my ($msgs, $event) = @_;
    return grep { ref $_ eq 'HASH' && ($_->{event} // '') eq $event } @$msgs;
}

# the μ-law audio of a media message's text frame
sub media_audio {
    return decode_base64(decode_json_safe($_[0])->{media}{payload} // '');
}

# Twilio's messages

sub start_msg {
    my (%a) = @_;
    return {
        event => 'start',
        sequenceNumber => '1',
        start => {
            accountSid => $a{account} // 'AC0123456789abcdef0123456789abcdef',
            streamSid => $a{stream} // 'MZ0123456789abcdef0123456789abcdef',
            callSid => $a{call} // 'CA0123456789abcdef0123456789abcdef',
            tracks => ['inbound'],
            customParameters => $a{params} || {},
            mediaFormat => $a{format} || {
                encoding => 'audio/x-mulaw', sampleRate => 8000,
                channels => 1 },
        },
        streamSid => $a{stream} // 'MZ0123456789abcdef0123456789abcdef',
    };
}

sub media_msg {
    my ($payload, $seq, %a) = @_;
    return {
        event => 'media',
        sequenceNumber => "$seq",
        media => { track => 'inbound', chunk => "$seq",
            timestamp => '' . ($seq * 20), payload => encode_base64($payload, '') },
        streamSid => $a{stream} // 'MZ0123456789abcdef0123456789abcdef',
    };
}

sub begin {
    my ($self, %a) = @_;
    $self->send_json({ event => 'connected', protocol => 'Call',
        version => '1.0.0' });
    $self->send_json(start_msg(%a));
}

1;
