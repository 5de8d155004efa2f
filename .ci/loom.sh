#!/usr/bin/env bash
# The loom stage: model-checks the crate's thread-safe parts (tests/loom.rs,
# and tests/loom_order.rs: callback order against a reference model)
# in release mode under the crate's own cfg `asyncio_future_loom`, prints
# how many interleavings each model explored, and exits non-zero when a
# model fails (including the test that shows a broken wake-up protocol
# fails its model).
#
# LOOM_MAX_PREEMPTIONS (default 100) bounds the preemptions per
# interleaving. At the default every current model is explored completely:
# the iteration counts stop growing from about 10 on (checked against
# loom's largest bound, 255). A new, larger model should come with a lower
# bound that keeps this stage under 5 minutes on 2 cores; the timeouts
# below fail the stage rather than let it run on.
#
# The build has its own target directory (its RUSTFLAGS differ from the
# normal build's; sharing one would rebuild everything both ways).
# Dependencies the models do not run (other tests' dev-dependencies) are
# built without optimisation, which shortens the build; the crate, loom and
# what they use stay optimised.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="--cfg asyncio_future_loom"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-100}"
export RUST_BACKTRACE=0

profile=(
  --release
  --config 'profile.release.package."*".opt-level=0'
)
for optimised in loom generator scoped-tls log; do
  profile+=(--config "profile.release.package.$optimised.opt-level=3")
done

start=$(date +%s)
timeout 240 cargo test "${profile[@]}" --test loom --test loom_order --no-run
built=$(date +%s)
echo "loom: built in $((built - start)) s; LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
timeout 120 cargo test "${profile[@]}" --test loom -- --nocapture --test-threads=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
    timeout 120 cargo test "${profile[@]}" --test loom_order -- --nocapture --test-threads=1 2>&1 | tee -a "$log"
    status=${PIPESTATUS[0]}
fi
set -e

echo
echo "loom: iterations per model (bound $LOOM_MAX_PREEMPTIONS):"
grep -o 'loom model .*' "$log" | sed 's/^loom model /  /' || true
echo "loom: stage took $(($(date +%s) - start)) s (build $((built - start)) s)"
exit "$status"
