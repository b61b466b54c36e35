#!/bin/sh
# Adds up the "<suite>: N passed, N failed" lines of each result file and prints the total.
# A suite whose file is missing or has no summary line counts as one failure.
passed=0; failed=0
for f in "$@"; do
    line=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$f" 2>/dev/null | tail -n 1)
    if [ -z "$line" ]; then
        echo "no result from $(basename "$f" .out)"
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    q=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + p)); failed=$((failed + q))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
