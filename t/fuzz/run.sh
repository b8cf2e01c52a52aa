#!/bin/sh
# Runs libFuzzer targets on their corpora, one after the other.
#
#   t/fuzz/run.sh SECONDS TARGET...   each TARGET (a fuzzer binary) for
#                                     SECONDS and one summary line for it
#   t/fuzz/run.sh -merge TARGET...    folds what the runs found into the
#                                     kept corpus
#
# A target reads its kept corpus, t/fuzz/corpus/<name>/, and its working
# corpus, <binary>.corpus next to the binary, and writes only to the
# working one: a run never changes the source tree.  -merge adds to the
# kept corpus the working inputs that reach coverage it does not have.
# A crash, leak or timeout fails the target, with the end of its log and
# its input saved as <binary>-crash-* (or leak-, timeout-, oom-); the
# other targets still run, and the run fails at the end.

kept=$(dirname "$0")/corpus

if [ "$1" = -merge ]; then
    shift
    for f in "$@"; do
        name=$(basename "$f")
        mkdir -p "$kept/$name" "$f.corpus"
        before=$(ls "$kept/$name" | wc -l)
        "$f" -merge=1 "$kept/$name" "$f.corpus" > "$f.merge.log" 2>&1 \
            || { tail -20 "$f.merge.log"; exit 1; }
        echo "$name: kept corpus $before -> $(ls "$kept/$name" | wc -l) inputs"
    done
    exit 0
fi

seconds=$1
shift
status=0

for f in "$@"; do
    name=$(basename "$f")
    mkdir -p "$f.corpus"
    seeds=
    [ -d "$kept/$name" ] && seeds=$kept/$name
    "$f" -max_total_time="$seconds" -timeout=10 -artifact_prefix="$f-" \
        -print_final_stats=1 "$f.corpus" $seeds > "$f.log" 2>&1
    if [ $? -ne 0 ]; then
        tail -40 "$f.log"
        echo "$name: FAILED (the whole log: $f.log)"
        status=1
        continue
    fi

    # the last status line ("#N DONE cov: C ft: F corp: U/S ...") and the
    # final stats
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$f.log")
    done=$(grep '^#[0-9]*[[:space:]]*DONE' "$f.log" | tail -n 1)
    cov=$(echo "$done" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$done" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$done" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
    echo "$name: $runs runs in ${seconds}s, cov $cov ft $ft," \
         "corpus $corp, no crash"
done

exit $status
