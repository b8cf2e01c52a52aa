#!/usr/bin/perl

# Every test that runs nginx (or the providers) ends with the log check:
# after its last start, call or reload of nginx comes a check of the logs
# (VoiceTest's stop or check_log, VoiceLog's log_is_clean, or conf_test,
# which checks its own run).  A test that runs neither says so with a
# line "# error log: none, <why>".  And the check itself catches what it
# is for.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VoiceLog qw(bad_lines);

my $CHECK = qr/->stop\b|->check_log\b|\blog_is_clean\(|->conf_test\b/;
my $RUN = qr/->run(?:_agent)?\(|->reload\b|->call\(|->sim\(|\bsim_start\(
    |\bexec\s+\$bin\b|`[^`]*\$nginx\b|`[^`]*demo\.sh/x;

my @tests = grep { !/every_test_checks_log\.t$/ } glob "$FindBin::Bin/*.t";
ok(@tests > 10, 'the tests are found');

for my $file (@tests) {
    my ($name) = $file =~ m{([^/]+)$};
    open my $fh, '<', $file or die "$file: $!";
    my ($last_run, $last_check, $none) = (0, 0, 0);
    while (my $line = <$fh>) {
        if ($line =~ /^\s*#/) {
            $none ||= $line =~ /^# error log: none, \S/;
            next;
        }
        $last_run = $. if $line =~ $RUN;
        $last_check = $. if $line =~ $CHECK;
    }
    close $fh;

    if ($none) {
        ok(!$last_run, "$name: says it has no log, and runs nothing");
        next;
    }

    ok($last_check, "$name: checks the log");
    cmp_ok($last_check, '>', $last_run,
        "$name: after its last run (line $last_run)");
}

# what the check catches, and what it lets through

for my $bad (
    '2026/01/01 00:00:00 [alert] 12#12: *1 voice: 1 allocation outlived',
    '2026/01/01 00:00:00 [crit] 12#12: *1 connect() failed',
    '2026/01/01 00:00:00 [emerg] 12#12: unknown directive "x"',
    '==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020',
    '==123==ERROR: LeakSanitizer: detected memory leaks',
    'src/voice_ws.c:10:5: runtime error: signed integer overflow',
    '2026/01/01 00:00:00 [notice] 1#1: worker process 2 exited on signal 11',
) {
    is(scalar bad_lines("ok line\n$bad\nok line\n"), 1, "caught: $bad");
}

is(scalar bad_lines(join "\n",
    '2026/01/01 00:00:00 [error] 12#12: *1 voice: STT failed: 500',
    '2026/01/01 00:00:00 [warn] 12#12: *1 voice: caller hung up',
    '2026/01/01 00:00:00 [info] 12#12: *1 voice: caller said "hi"'), 0,
    'error, warn and info pass');
is(scalar bad_lines("[emerg] nginx -t refused\n[alert] x\n", qr/\[emerg\]/),
    1, 'an allowed line passes, the others still count');

done_testing;
