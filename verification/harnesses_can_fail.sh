#!/usr/bin/env bash
# The verification harnesses can fail (issue 4, part 5).
#
# Builds the crate with a deliberately wrong variant, `--cfg
# asyncio_future_mutant` (done callbacks scheduled LIFO instead of FIFO, in
# `hooks::callback_order`), in its own target directory (target/mutant, so
# the normal build is not invalidated), and checks that each harness catches
# it, i.e. FAILS:
#   1. the proptest state machine, crate vs model   (model_proptest)
#   2. the quickcheck FIFO property on the crate     (model_quickcheck)
#   3. the exhaustive bounded check                   (exhaustive, debug
#      build, its debug depth)
# (all three in verification/harness/tests/, package asyncio-future-harness)
# A harness counts as having caught the mutant only if it exits non-zero AND
# its output shows its own failure report (not a build error). Prints what
# each found. Exit 0 only when all three caught it.
set -uo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=target/mutant
export RUSTFLAGS="--cfg asyncio_future_mutant"
export RUST_BACKTRACE=0
# The mutant's failures must not land in the committed regression file.
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=1

start=$(date +%s)
echo "=== building the mutant (RUSTFLAGS=\"$RUSTFLAGS\", CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
if ! cargo test -p asyncio-future-harness --no-run --test model_proptest --test model_quickcheck --test exhaustive 2>&1 | tail -3; then
    echo "FAIL: the mutant does not build" >&2
    exit 1
fi

caught=0
missed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run NAME MARKER CARGO-ARGS...: the harness must fail with MARKER in its output.
run() {
    local name=$1 marker=$2
    shift 2
    echo
    echo "=== $name: cargo $*"
    local t0=$(date +%s)
    cargo "$@" >"$log" 2>&1
    local rc=$?
    if [ "$rc" -ne 0 ] && grep -q "$marker" "$log"; then
        echo "CAUGHT (exit $rc, $(( $(date +%s) - t0 )) s). What it found:"
        caught=$((caught + 1))
        return 0
    fi
    echo "MISSED (exit $rc): the harness did not report the mutant. Last lines:"
    tail -20 "$log"
    missed+=("$name")
    return 1
}

# 1. proptest: print the shrunk counterexample (the last report).
if run "proptest state machine (crate vs model)" "the crate and the model differ" \
    test -p asyncio-future-harness --test model_proptest; then
    awk '/^Test failed: /{buf=""; on=1} on&&/^minimal failing input/{on=0} on{buf=buf $0 "\n"} END{printf "%s", buf}' "$log" | sed 's/^/    /'
fi

# 2. quickcheck: the FIFO property on the crate.
if run "quickcheck FIFO property (crate)" "expected the registrations" \
    test -p asyncio-future-harness --test model_quickcheck crate_fifo; then
    grep -A 30 "TEST FAILED" "$log" | grep -v "^note:" | sed '/^$/q' | sed 's/^/    /'
fi

# 3. exhaustive: the shortest counterexample (breadth-first).
if run "exhaustive bounded check" "exhaustive check failed" \
    test -p asyncio-future-harness --test exhaustive; then
    grep -A 30 "exhaustive check failed" "$log" | sed '/^$/q' | sed 's/^/    /'
fi

echo
echo "=== $caught of 3 harnesses caught the mutant ($(( $(date +%s) - start )) s)"
if [ "$caught" -ne 3 ]; then
    echo "FAIL: missed by: ${missed[*]}" >&2
    exit 1
fi
echo "OK: every harness can fail"
