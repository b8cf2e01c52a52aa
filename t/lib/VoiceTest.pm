package VoiceTest;

# Starts a real nginx with the built module for one test file, in its own
# prefix, and checks its error.log when the test is done.  Config text may
# use %%PORT%% (the listen port), %%PORT2%% .. (more free ports),
# %%MODULE%% and %%PREFIX%%.  Runs the call simulator (voice-sim) against
# it too.

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Digest::SHA qw(hmac_sha1_base64 hmac_sha256_hex);
use Time::HiRes qw(sleep);
use Test::More;
use FindBin;
use POSIX ();
use VoiceLog qw(log_is_clean);

our @EXPORT_OK = qw(free_port http_request twilio_signature stream_token
    slurp spit until_true);

my $NGINX = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
my $MODULE = $ENV{VOICE_MODULE}
    or die "VOICE_MODULE is not set: run the tests with make test\n";

# A module built with sanitizers needs their runtimes loaded first.  Leak
# detection is off: the packaged nginx itself does not free its worker
# arrays at exit.  The module counts its own allocations instead and logs
# an [alert] at worker exit if any outlived the calls.
our $ENV_PREFIX = '';
if ($ENV{VOICE_PRELOAD}) {
    $ENV_PREFIX = "env LD_PRELOAD='$ENV{VOICE_PRELOAD}'"
        . " ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0"
        . " UBSAN_OPTIONS=print_stacktrace=1 ";
}

# a test that hangs fails instead of stalling the whole suite
$SIG{ALRM} = sub { die "test timed out\n" };
alarm($ENV{VOICE_TEST_TIMEOUT} || 300);

# a whole file, bytes as they are ('' when it cannot be read)
sub slurp {
    open my $fh, '<:raw', $_[0] or return '';
    local $/;
    return <$fh>;
}

sub spit {
    open my $fh, '>:raw', $_[0] or die "$_[0]: $!";
    print $fh $_[1];
    close $fh;
}

# true once $cond->() is, checked every 50 ms for up to $seconds
sub until_true {
    my ($cond, $seconds) = @_;
    for (1 .. $seconds * 20) {
        return 1 if $cond->();
        sleep 0.05;
    }
    return 0;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
        LocalPort => 0, ReuseAddr => 1) or die "socket: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub new {
    my ($class, %args) = @_;
    my $self = bless {
        workers => $args{workers} || 1,
        prefix => tempdir('voice-t-XXXXXX', TMPDIR => 1,
            CLEANUP => !$ENV{VOICE_KEEP}),
        ports => [ map { free_port() } 1 .. 4 ],
        allow => $args{allow_log} || [],
    }, $class;
    $self->{port} = $self->{ports}[0];
    chmod 0755, $self->{prefix};
    mkdir "$self->{prefix}/logs";
    return $self;
}

sub port { $_[0]{port} }
sub ports { @{ $_[0]{ports} } }
sub prefix { $_[0]{prefix} }

sub expand {
    my ($self, $text) = @_;
    $text =~ s/%%PORT%%/$self->{ports}[0]/g;
    $text =~ s/%%PORT(\d)%%/$self->{ports}[$1 - 1]/g;
    $text =~ s/%%MODULE%%/$MODULE/g;
    $text =~ s/%%PREFIX%%/$self->{prefix}/g;
    return $text;
}

# Writes nginx.conf around an http{} body.
sub write_conf {
    my ($self, $http, %opt) = @_;
    my $workers = $opt{workers} || $self->{workers};
    my $conf = $self->expand(<<"EOF");
load_module %%MODULE%%;
worker_processes $workers;
master_process on;
daemon on;
pid %%PREFIX%%/nginx.pid;
error_log %%PREFIX%%/logs/error.log info;
events { worker_connections 4096; }
http {
    access_log %%PREFIX%%/logs/access.log;
    client_body_temp_path %%PREFIX%%/client_body_temp;
    proxy_temp_path %%PREFIX%%/proxy_temp;
    fastcgi_temp_path %%PREFIX%%/fastcgi_temp;
    uwsgi_temp_path %%PREFIX%%/uwsgi_temp;
    scgi_temp_path %%PREFIX%%/scgi_temp;
$http
}
EOF
    open my $fh, '>', "$self->{prefix}/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;
}

# nginx -t on the current config: (exit code, output).  The output and
# the log it wrote must hold nothing that must never happen (one test),
# but for [emerg], nginx's way of refusing a configuration.
sub conf_test {
    my ($self) = @_;
    my $log = "$self->{prefix}/logs/t.log";
    unlink $log;
    my $out = `$ENV_PREFIX$NGINX -t -p $self->{prefix} -c $self->{prefix}/nginx.conf -e $log 2>&1`;
    my $rc = $? >> 8;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    log_is_clean($out . "\n" . slurp($log), 'nginx -t: no alert, no crash',
        qr/\[emerg\]/);
    return ($rc, $out);
}

sub run {
    my ($self, $http, %opt) = @_;
    $self->write_conf($http, %opt) if defined $http;
    # output to a file: the daemon keeps its inherited stderr open
    my $log = "$self->{prefix}/logs/start.log";
    system("$ENV_PREFIX$NGINX -p $self->{prefix} -c $self->{prefix}/nginx.conf"
        . " -e $self->{prefix}/logs/error.log >$log 2>&1 </dev/null");
    die "nginx failed to start: " . `cat $log` if $?;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}");
        return $self if $s;
        sleep 0.05;
    }
    die "nginx did not listen on $self->{port}";
}

# nginx with one server on %%PORT%% for the agent against fake providers:
# voice_stt, voice_llm and voice_tts name $fake's locations, which follow
# the server's own lines (and voice_log_transcripts on, for the tests that
# read what was said); %opt go to $fake->locations, but for "http":
# text put before that server, in http {}
sub run_agent {
    my ($self, $fake, $server, %opt) = @_;
    my $http = delete $opt{http} // '';
    return $self->run(<<"CONF");
$http
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        voice_stt /_stt;
        voice_llm /_llm;
        voice_tts /_tts;
        voice_log_transcripts on;

$server
@{[ $fake->locations(%opt) ]}
    }
CONF
}

# The call simulator, its arguments split on blanks as a shell would,
# waited for: (wait status, 0 only when it exited 0; stdout; stderr).
# Its stderr stays in sim.log in the prefix while it runs.
sub sim {
    my ($self, @args) = @_;
    my $log = "$self->{prefix}/sim.log";
    my $out = `@{[ sim_bin() ]} @args 2>$log`;
    return ($?, $out, slurp($log));
}

sub sim_bin {
    return $ENV{VOICE_SIM} || die "VOICE_SIM is not set\n";
}

# the simulator as Twilio, on a media stream of this nginx
sub call {
    my ($self, $path, @args) = @_;
    return $self->sim("--stream-url ws://127.0.0.1:$self->{port}$path",
        @args);
}

# The simulator in the background, for sim_wait: its stdout and stderr
# go to <name>.out and <name>.err in the prefix.
sub sim_start {
    my ($self, $name, @args) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # no END blocks in the child: they would stop nginx
        exec(sim_bin() . " @args > $self->{prefix}/$name.out"
            . " 2> $self->{prefix}/$name.err") or POSIX::_exit(127);
    }
    $self->{sims}{$name} = $pid;
    return $self;
}

# what sim gives, for the simulator sim_start started as name
sub sim_wait {
    my ($self, $name) = @_;
    waitpid delete $self->{sims}{$name}, 0;
    return ($?, slurp("$self->{prefix}/$name.out"),
        slurp("$self->{prefix}/$name.err"));
}

sub master_pid {
    my ($self) = @_;
    open my $fh, '<', "$self->{prefix}/nginx.pid" or return;
    # nginx -t of a valid configuration leaves the file empty
    my $pid = <$fh> // return;
    chomp $pid;
    return $pid;
}

sub reload {
    my ($self, $http) = @_;
    $self->write_conf($http) if defined $http;
    kill 'HUP', $self->master_pid;
}

# the worker processes of the master now
sub workers_now {
    my ($self) = @_;
    my $m = $self->master_pid or return ();
    my $c = slurp("/proc/$m/task/$m/children") // '';
    return grep { /^\d+$/ } split ' ', $c;
}

# A reload, waited for: the old workers are gone and the new ones all
# up (with no calls live, the old ones exit at once); under load the new
# configuration may take seconds to serve.
sub reload_wait {
    my ($self, $http) = @_;
    my %old = map { $_ => 1 } $self->workers_now;
    $self->reload($http);
    for (1 .. 200) {
        my @now = $self->workers_now;
        return 1 if @now == $self->{workers} && !grep { $old{$_} } @now;
        sleep 0.05;
    }
    return 0;
}

sub stop {
    my ($self) = @_;
    my $pid = $self->master_pid or return;
    kill 'QUIT', $pid;
    for (1 .. 200) {
        last unless kill 0, $pid;
        sleep 0.05;
    }
    if (kill 0, $pid) {
        kill 'TERM', $pid;
        sleep 0.5;
    }
    unlink "$self->{prefix}/nginx.pid";
    $self->check_log;
}

sub error_log {
    my ($self) = @_;
    open my $fh, '<', "$self->{prefix}/logs/error.log" or return '';
    local $/;
    return <$fh>;
}

# Fails on anything in error.log that must never happen.
sub check_log {
    my ($self) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    log_is_clean($self->error_log, 'error.log is clean', @{ $self->{allow} });
}

sub DESTROY {
    my ($self) = @_;
    my $pid = $self->master_pid or return;
    kill 'TERM', $pid;
}

# One raw HTTP/1.x exchange: returns (status, \%headers, body).
sub http_request {
    my ($port, $raw) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    print $s $raw;
    local $/;
    my $resp = <$s> // '';
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    $head //= '';
    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
    my %h;
    for (split /\r\n/, $head) {
        $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    return ($status // 0, \%h, $body // '');
}

# base64(HMAC-SHA1(token, url . join(sorted name.value)))
sub twilio_signature {
    my ($token, $url, $params) = @_;
    my @pairs = @{ $params || [] };
    my @kv;
    while (@pairs) {
        push @kv, [ shift @pairs, shift @pairs ];
    }
    my $data = $url . join '', map { $_->[0] . $_->[1] }
        sort { $a->[0] cmp $b->[0] || $a->[1] cmp $b->[1] } @kv;
    my $sig = hmac_sha1_base64($data, $token);
    $sig .= '=' while length($sig) % 4;
    return $sig;
}

# The voiceToken of a call, as docs/directives.md (voice_stream_token)
# gives it: "<expiry>.<hex HMAC-SHA256(auth token, CallSid:expiry)>"
sub stream_token {
    my ($token, $call_sid, $expiry) = @_;
    return "$expiry." . hmac_sha256_hex("$call_sid:$expiry", $token);
}

1;
