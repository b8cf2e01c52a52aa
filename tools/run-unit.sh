#!/bin/sh
# Runs each unit test binary and prints one summary line over all of them.
passed=0
failed=0
status=0
for t in "$@"; do
    line=$("$t" | tail -n 1) || status=1
    echo "$line"
    p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "$t: no summary line (crashed?)"
        failed=$((failed + 1))
        status=1
        continue
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && exit $status
exit 1
