#!/usr/bin/perl
# The end of bench-stream.sh: the streaming connection's memory, each
# configuration's voice-to-voice against batch measured in the same
# run, and the goal: streaming + speculative within 50 ms of the larger
# of voice_vad_silence and what the providers take once the speculative
# turn starts.
#
#   stream-report.pl RESULTS VAD_MS SPEC_MS FINAL_MS LLM_SENTENCE_MS TTS_MS

use strict;
use warnings;

my ($results, $vad, $spec, $final, $sentence, $tts) = @ARGV;
my (%mem, %v2v, @order);

open my $fh, '<', $results or die "$results: $!\n";
while (<$fh>) {
    my @f = split;
    if ($f[0] eq 'mem') {
        $mem{ $f[1] } = { calls => $f[2], rss0 => $f[3], rss1 => $f[4],
                          opened => $f[5] };
    } elsif ($f[0] eq 'v2v') {
        push @order, [ @f[2, 1] ] unless $v2v{"$f[1] $f[2]"};
        $v2v{"$f[1] $f[2]"} = { n => $f[3], p50 => $f[4], p99 => $f[5],
                                m50 => $f[6], m99 => $f[7] };
    }
}

if (%mem) {
    my ($c) = map { $_->{calls} } values %mem;
    print "\nmemory: $c silent calls at once, each on a fresh worker\n";
    for my $cfg (grep { $mem{$_} } qw(batch stream)) {
        my $m = $mem{$cfg};
        printf "  %-7s worker RSS +%d KiB, %.1f KiB a call%s\n", $cfg,
            $m->{rss1} - $m->{rss0}, ($m->{rss1} - $m->{rss0}) / $c,
            $cfg eq 'stream'
                ? " ($m->{opened} streaming connections opened)" : '';
    }
    if ($mem{batch} && $mem{stream}) {
        printf "  the streaming connection: %.1f KiB a call\n",
            (($mem{stream}{rss1} - $mem{stream}{rss0})
             - ($mem{batch}{rss1} - $mem{batch}{rss0})) / $c;
    }
}

print "\nvoice-to-voice (ms): heard by the caller, and as the module counts"
    . " it;\nagainst batch in this run\n";
printf "%6s  %-7s %6s %8s %8s %10s %10s   %s\n", 'calls', 'config', 'turns',
    'p50', 'p99', 'module p50', 'module p99', 'p50 against batch';

for (sort { $a->[0] <=> $b->[0] } @order) {
    my ($calls, $cfg) = @$_;
    my $r = $v2v{"$cfg $calls"};
    my $b = $v2v{"batch $calls"};
    my $vs = '';
    if ($b && $cfg ne 'batch' && $b->{p50} > 0) {
        $vs = sprintf '%+.0f ms (%.2fx)', $r->{p50} - $b->{p50},
            $r->{p50} / $b->{p50};
    }
    printf "%6d  %-7s %6d %8.0f %8.0f %10.0f %10.0f   %s\n", $calls, $cfg,
        $r->{n}, $r->{p50}, $r->{p99}, $r->{m50}, $r->{m99}, $vs;
}

# the goal

my $providers = $spec + $final + $sentence + $tts;
my $floor = $vad > $providers ? $vad : $providers;

printf "\ngoal: streaming + speculative within 50 ms of max(voice_vad_silence"
    . " %d, speculative silence %d + final %d + LLM first sentence %d + TTS"
    . " first byte %d = %d) = %d ms\n", $vad, $spec, $final, $sentence, $tts,
    $providers, $floor;

for (grep { $_->[1] eq 'spec' } sort { $a->[0] <=> $b->[0] } @order) {
    my $r = $v2v{"spec $_->[0]"};
    printf "  %d call%s: heard p50 %.0f ms (%+.0f), p99 %.0f ms (%+.0f);"
        . " module p50 %.0f ms (%+.0f): %s\n", $_->[0],
        $_->[0] == 1 ? '' : 's', $r->{p50},
        $r->{p50} - $floor, $r->{p99}, $r->{p99} - $floor, $r->{m50},
        $r->{m50} - $floor,
        $r->{p50} - $floor <= 50
            ? ($r->{p99} - $floor <= 50 ? 'met' : 'met at p50, not at p99')
            : 'not met';
}
