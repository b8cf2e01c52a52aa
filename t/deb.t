#!/usr/bin/perl

# make deb's package is laid out as Debian lays out nginx modules: the
# module in nginx's modules directory, its load_module snippet in
# modules-available, linked from modules-enabled on install, and a
# dependency on the nginx ABI it was built against. Unpacked, the packaged
# nginx loads it with the demo's configuration.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use Test::More;
use VoiceLog qw(log_is_clean);
use VoiceTest qw(slurp spit);

my $deb = $ENV{VOICE_DEB} or plan skip_all => 'VOICE_DEB is not set';
my $nginx = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
my $top = "$FindBin::Bin/..";

ok(-f $deb, 'make deb made the package') or BAIL_OUT("no $deb");

my ($version) = slurp("$top/debian/changelog") =~ /^\S+ \(([^)]+)\)/;
my $arch = `dpkg --print-architecture`;
chomp $arch;
like($deb, qr{/libnginx-mod-http-voice_\Q$version\E_\Q$arch\E\.deb$},
    'named libnginx-mod-http-voice_VERSION_ARCH.deb');

my %f;
for (split /\n/, `dpkg-deb -f $deb`) {
    $f{$1} = $2 if /^(\S+): (.*)$/;
}
is($f{Package}, 'libnginx-mod-http-voice', 'package name');
is($f{Version}, $version, 'version from debian/changelog');

my ($abi) = slurp('/usr/share/nginx/src/debian/libnginx-mod.abisubstvars')
    =~ /^nginx:abi=(\S+)/m;
ok($abi, "nginx-dev names the ABI: $abi");
like($f{Depends} // '', qr/(^|, )\Q$abi\E(,|$)/,
    'depends on the exact nginx ABI it was built against');
like($f{Depends} // '', qr/libyajl2/, 'and on the libraries it links');
like($f{Depends} // '', qr/libspeexdsp1/, 'speexdsp too');

my @files = map { (split ' ', $_, 6)[5] } split /\n/, `dpkg-deb -c $deb`;
ok((grep { $_ eq './usr/lib/nginx/modules/ngx_http_voice_module.so' } @files),
    'the module in nginx\'s modules directory');
ok((grep { $_ eq './usr/share/nginx/modules-available/mod-http-voice.conf' }
    @files), 'its snippet in modules-available');

my $root = tempdir('voice-deb-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system("dpkg-deb -x $deb $root") == 0 or die "dpkg-deb -x failed";
is(slurp("$root/usr/share/nginx/modules-available/mod-http-voice.conf"),
    "load_module modules/ngx_http_voice_module.so;\n", 'the load_module line');

my $ctl = tempdir('voice-deb-ctl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system("dpkg-deb -e $deb $ctl") == 0 or die "dpkg-deb -e failed";
my $postinst = slurp("$ctl/postinst") // '';
like($postinst, qr/mod-http-voice\.conf:50-mod-http-voice\.conf/,
    'postinst links it from modules-enabled as 50-mod-http-voice.conf');
like($postinst, qr{ln -sf /usr/share/nginx/modules-available/},
    'with a symbolic link');
like(slurp("$ctl/postrm") // '', qr/modules-enabled/,
    'postrm removes the link');

# the packaged nginx, the packaged snippet, the demo's configuration

my $prefix = tempdir('voice-deb-nginx-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$prefix/logs";
symlink "$root/usr/lib/nginx/modules", "$prefix/modules" or die $!;
my $demo = slurp("$top/conf/demo.conf");
$demo =~ s/^load_module [^;]*;\n//m;
spit("$prefix/nginx.conf", "include $root/usr/share/nginx/modules-available/"
    . "mod-http-voice.conf;\n$demo");
for my $inc (grep { !/\.conf$/ } glob "$top/conf/*") {
    my ($name) = $inc =~ m{([^/]+)$};
    symlink $inc, "$prefix/$name";
}
my $out = `$nginx -t -p $prefix -c $prefix/nginx.conf -e $prefix/logs/error.log 2>&1`;
is($? >> 8, 0, 'nginx -t: the packaged module with conf/demo.conf')
    or diag $out;
log_is_clean($out . (slurp("$prefix/logs/error.log") // ''),
    'nginx -t: the log is clean');

done_testing;
