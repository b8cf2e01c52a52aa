#!/bin/sh
# Runs each unit test binary and prints one summary line over all of them.
# A binary fails the run if a check failed, if it printed no summary, or
# if it exited non-zero after its summary (a sanitizer's report at exit).
passed=0
failed=0
status=0
for t in "$@"; do
    out=$("$t")
    rc=$?
    line=$(printf '%s\n' "$out" | tail -n 1)
    echo "$line"
    p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "$t: no summary line (crashed?)"
        failed=$((failed + 1))
        status=1
        continue
    fi
    if [ "$rc" -ne 0 ]; then
        echo "$t: exited with status $rc"
        status=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && exit $status
exit 1
