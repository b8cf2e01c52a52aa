package VoiceLog;

# The check every test ends with: nothing in a log that must never
# happen.  VoiceTest's check_log applies it to nginx's error.log; tests
# that run nginx or the providers some other way apply it to their logs
# and output.

use strict;
use warnings;

use Exporter 'import';
use Test::More;

our @EXPORT_OK = qw(log_is_clean bad_lines);

# nginx's worst levels, a sanitizer's report, a crashed process
our $BAD = qr/\[(alert|emerg|crit)\]|AddressSanitizer|LeakSanitizer
    |runtime\ error:|exited\ on\ signal/x;

# the bad lines of $text, but for those matching one of @allow
sub bad_lines {
    my ($text, @allow) = @_;
    my @bad = grep { /$BAD/ } split /\n/, $text // '';
    for my $allow (@allow) {
        @bad = grep { !/$allow/ } @bad;
    }
    return @bad;
}

# One test: no line of $text is bad, but for those matching one of
# @allow (patterns).  Shows the first bad lines when it fails.
sub log_is_clean {
    my ($text, $name, @allow) = @_;
    my @bad = bad_lines($text, @allow);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok(!@bad, $name)
        or diag(join "\n", @bad[0 .. ($#bad > 20 ? 20 : $#bad)]);
}

1;
