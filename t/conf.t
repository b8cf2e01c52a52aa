#!/usr/bin/perl

# Every example configuration in conf/ passes nginx -t with the built
# module.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use VoiceTest;
use Test::More;

my $nginx = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
my $module = $ENV{VOICE_MODULE} or die "VOICE_MODULE is not set\n";
my @confs = glob "$FindBin::Bin/../conf/*.conf";

ok(@confs > 0, 'conf/ has examples');

for my $conf (@confs) {
    my $prefix = tempdir('voice-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$prefix/$_" for qw(logs modules conf);
    symlink $module, "$prefix/modules/ngx_http_voice_module.so" or die $!;

    # included files (keys, provider snippets) sit beside the example
    for my $inc (glob "$FindBin::Bin/../conf/*") {
        my ($name) = $inc =~ m{([^/]+)$};
        symlink $inc, "$prefix/conf/$name";
    }

    my $out = `$VoiceTest::ENV_PREFIX$nginx -t -p $prefix -c $conf -e $prefix/logs/error.log 2>&1`;
    my ($name) = $conf =~ m{([^/]+)$};
    is($? >> 8, 0, "nginx -t conf/$name") or diag $out;
}

done_testing;
