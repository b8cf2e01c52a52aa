#!/usr/bin/perl
# The figures of one run of bench-stream.sh: a configuration, CALLS calls
# of TURNS turns each.  Prints a row per figure and appends the
# voice-to-voice percentiles to RESULTS for the comparison at the end.
#
#   stream-figures.pl CFG CALLS TURNS SIM.json INFO.log PROVIDERS.log
#                     RELAY.log "WORKER_CPU_US WAITED_US RUN_US"
#                     "STT_MS FINAL_MS SENTENCE_MS TTS_MS" RESULTS
#
# (the worker's CPU time in the run, its time waiting for a CPU, and
# the run's length; the fakes' delays: batch transcript, streaming final
# after Finalize, LLM first sentence, TTS first byte)
#
# Times in the providers' and the relay's logs are µs of CLOCK_REALTIME
# (what they read stamped by the kernel as it arrived, what they wrote
# just before the write), so the two logs compare.

use strict;
use warnings;
use JSON::PP;

my ($cfg, $calls, $turns, $json, $info, $plog, $rlog, $usage, $delays,
    $results) = @ARGV;
my ($cpu, $waited, $run) = split ' ', $usage;
my %delay;
@delay{qw(stt_reply stt_final llm_sent tts_first)} = split ' ', $delays;

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!\n";
    local $/;
    return <$fh>;
}

sub lines {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!\n";
    return map { [split] } <$fh>;
}

# p50, p99, max of a list, nearest rank
sub pct {
    my @v = sort { $a <=> $b } @_;
    return (0, 0, 0) unless @v;
    return map { $v[int($_ * $#v + 0.5)] } 0.5, 0.99, 1;
}

sub row {
    my ($name, $scale, $fmt, @v) = @_;
    my @p = map { $_ / $scale } pct(@v);
    printf "%-7s %5d  %-38s %6d %9s %9s %9s\n", $cfg, $calls, $name,
        scalar @v, map { sprintf $fmt, $_ } @p;
    return @p;
}

# the caller's side: each turn's answer, from voice-sim --json

my $sim = eval { decode_json(slurp($json)) } || { calls => [] };
my (@v2v, $failed);
$failed = 0;

for my $c (@{ $sim->{calls} }) {
    $failed++ unless $c->{ok};
    for my $t (@{ $c->{turns} }) {
        push @v2v, $t->{reply_after_ms} if $t->{reply_after_ms} >= 0;
    }
}

# the module's side: its timings lines, and what else it said

my (@mv2v, @module_b, %said);
my $timings = ' turn \d+ timings: .* voice-to-voice (\d+) ms,'
    . ' module \d+ us \((\d+) \+';

for (split /\n/, slurp($info)) {
    if (/$timings/o) {
        push @mv2v, $1;
        push @module_b, $2;
    }
    $said{fallback}++ if /utterance sent to .* instead/;
    $said{lost}++ if /stt stream .* lost/;
    $said{dropped}++ if /speculative reply dropped unheard/;
    $said{empty}++ if /empty transcript ignored/;
}

# the hand-offs on the wire

my (%sent, @frame, @wire_b, %final, %asked, @late);

for (lines($rlog)) {
    my ($t, $ev, $sid, $k) = @$_;
    push @{ $sent{"$sid $k"} }, $t if $ev eq 'caller_media';
}

@$_ = sort { $a <=> $b } @$_ for values %sent;

# the index of the last of the sorted @$s at or before $t, -1 for none
sub before {
    my ($s, $t) = @_;
    my ($lo, $hi) = (0, scalar @$s);
    while ($lo < $hi) {
        my $mid = int(($lo + $hi) / 2);
        if ($s->[$mid] <= $t) { $lo = $mid + 1 } else { $hi = $mid }
    }
    return $lo - 1;
}

my @ev = sort { $a->[0] <=> $b->[0] } lines($plog);

# what each answer is late after: its request, or the Finalize
my %after = (stt_reply => 'stt_req', stt_final => 'stt_finalize',
             llm_sent => 'llm_req', tts_first => 'tts_req');

for (@ev) {
    my ($t, $ev, $id, $k) = @$_;

    # how late the fakes answered, against their fixed delays
    $asked{"$ev $id $k"} = $t if $ev =~ /^(stt_req|stt_finalize|tts_req)$/;
    $asked{"$ev $id 0"} = $t if $ev eq 'llm_req';
    if ($after{$ev} && ($ev ne 'llm_sent' || $k == 0)) {
        my $a = delete $asked{"$after{$ev} $id $k"};
        push @late, $t - $a - 1000 * $delay{$ev} if defined $a;
    }

    if ($ev eq 'stt_frame') {

        # the latest time the relay wrote a frame with that audio; not
        # when the same audio went a moment before too (silence)
        my ($sid) = $id =~ m{/(\S+)$} or next;
        my $s = $sent{"$sid $k"} or next;
        my $i = before($s, $t);
        next if $i < 0 || ($i > 0 && $s->[$i] - $s->[$i - 1] < 1_000_000);
        push @frame, $t - $s->[$i] if $t - $s->[$i] < 1_000_000;

    } elsif ($ev eq 'stt_final' || $ev eq 'stt_reply') {
        $final{$id} = $t;

    } elsif ($ev eq 'llm_req' && defined $final{$id}) {
        push @wire_b, $t - delete $final{$id};
    }
}

my $answered = @v2v;
my @caller = row('voice-to-voice, caller (ms)', 1, '%.0f', @v2v);
my @module = row('voice-to-voice, module (ms)', 1, '%.0f', @mv2v);

if ($cfg ne 'batch') {
    row('caller frame -> recognizer (ms)', 1000, '%.3f', @frame);
}

row('transcript -> LLM request, module (ms)', 1000, '%.3f', @module_b);
row('transcript -> LLM request, wire (ms)', 1000, '%.3f', @wire_b);
row('fake providers: answers late by (ms)', 1000, '%.3f', @late);

my @notes = map { "$said{$_} $_" } grep { $said{$_} } sort keys %said;
printf "%-7s %5d  (%d of %d turns answered, %d failed calls; worker %.1f%%"
    . " CPU, %.0f ms waiting for a CPU%s)\n", $cfg, $calls, $answered,
    $calls * $turns, $failed, $run > 0 ? 100 * $cpu / $run : 0,
    $waited / 1000, @notes ? '; ' . join(', ', @notes) : '';

open my $fh, '>>', $results or die "$results: $!\n";
printf $fh "v2v %s %d %d %.1f %.1f %.1f %.1f\n", $cfg, $calls, $answered,
    @caller[0, 1], @module[0, 1];
close $fh;
