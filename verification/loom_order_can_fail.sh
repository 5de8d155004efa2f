#!/usr/bin/env bash
# The loom order models (tests/loom_order.rs) catch a wrong crate: builds
# the crate with `--cfg asyncio_future_mutant` (done callbacks scheduled
# LIFO, hooks::callback_order) beside `--cfg asyncio_future_loom`, in its
# own target directory (target/loom-mutant), and requires both order models
# to fail with the model's report ("the model allows"). Exit 0 only then.
# Not part of .ci/run (a third build of loom and the crate, about 3 minutes
# on 2 cores); the model's own rejections are `the_model_rejects_wrong_orders`.
set -uo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="--cfg asyncio_future_loom --cfg asyncio_future_mutant"
export CARGO_TARGET_DIR=target/loom-mutant
export RUST_BACKTRACE=0
profile=(--release --config 'profile.release.package."*".opt-level=0')
for optimised in loom generator scoped-tls rpds archery triomphe log; do
    profile+=(--config "profile.release.package.$optimised.opt-level=3")
done
cargo test "${profile[@]}" --test loom_order --no-run 2>&1 | tail -2 ||
    { echo "FAIL: the mutant does not build" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test "${profile[@]}" --test loom_order -- --test-threads=1 order_ >"$log" 2>&1
rc=$?
grep -E "^ran |the model allows" "$log" | sed 's/^/    /'
caught=$(grep -c "the model allows" "$log")
if [ "$rc" -ne 0 ] && [ "$caught" -eq 2 ]; then
    echo "OK: both loom order models caught the LIFO mutant"
    exit 0
fi
echo "FAIL: exit $rc, $caught of 2 models reported the mutant" >&2
tail -20 "$log" >&2
exit 1
