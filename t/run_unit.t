#!/usr/bin/perl

# tools/run-unit.sh, which make test runs the unit binaries with, fails
# when a binary fails, even after printing a clean summary (as a binary
# does when LeakSanitizer reports at its exit), and sums the rest.
#
# error log: none, it runs no server, only scripts that print a line

use strict;
use warnings;

use FindBin;
use Test::More;
use File::Temp qw(tempdir);

my $dir = tempdir('voice-run-unit-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $runner = "$FindBin::Bin/../tools/run-unit.sh";

sub fake {
    my ($name, $line, $rc) = @_;
    open my $fh, '>', "$dir/$name" or die $!;
    print $fh "#!/bin/sh\necho '$line'\nexit $rc\n";
    close $fh;
    chmod 0755, "$dir/$name";
    return "$dir/$name";
}

my $good = fake('good', 'good: 3 passed, 0 failed', 0);
my $leaky = fake('leaky', 'leaky: 2 passed, 0 failed', 1);
my $bad = fake('bad', 'bad: 1 passed, 1 failed', 1);

my $out = `sh $runner $good $good 2>&1`;
is($? >> 8, 0, 'clean binaries pass');
like($out, qr/^unit: 6 passed, 0 failed$/m, 'their checks are summed');

$out = `sh $runner $good $leaky 2>&1`;
isnt($? >> 8, 0, 'a binary that exits non-zero after a clean summary fails');
like($out, qr/leaky.*exited with status 1/, 'and the failure is named');

$out = `sh $runner $good $bad 2>&1`;
isnt($? >> 8, 0, 'a failed check fails');
like($out, qr/^unit: 4 passed, 1 failed$/m, 'and is counted');

done_testing;
