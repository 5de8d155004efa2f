#!/usr/bin/env bash
# Re-runs every function scenario on CPython (python3, or $PYTHON; 3.11)
# and fails on any difference from the committed logs in expected/, which
# the Rust tests (tests/functions_*.rs) compare the crate against.
#   bash verification/functions/check.sh            # check
#   bash verification/functions/check.sh --write    # regenerate expected/
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python3}
# The logs are CPython 3.11's (3.12 rebuilt wait_for on asyncio.timeout,
# which passes the waiter's cancel message on to the inner task).
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || { echo "check.sh: needs CPython 3.11, found $("$python" --version)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for script in gather shield wait_for wait as_completed timeout taskgroup; do
    if ! "$python" "$script.py" > "$out"; then
        echo "verification/functions/$script.py: CPython failed (exit status above)" >&2
        status=1
    elif [ "${1:-}" = "--write" ]; then
        cp "$out" "expected/$script.txt"
        echo "wrote expected/$script.txt"
    elif ! diff -u "expected/$script.txt" "$out"; then
        echo "verification/functions/$script.py: CPython's log differs from expected/$script.txt" >&2
        status=1
    else
        echo "$script: $(grep -c '^== ' "expected/$script.txt") scenarios, CPython's log unchanged"
    fi
done
[ "$status" -eq 0 ] || echo "check.sh: CPython's logs differ from verification/functions/expected/ (above)" >&2
exit $status
