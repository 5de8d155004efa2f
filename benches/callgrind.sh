#!/usr/bin/env bash
# Instructions per operation of this crate's W1–W5 (benches/workloads.rs),
# counted by valgrind's callgrind: the difference between a run of LONG and
# a run of SHORT operations, divided by LONG - SHORT, so start-up and
# teardown cancel. Counts repeat exactly on a busy machine.
#   bash benches/callgrind.sh [W1 W2 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
SHORT=${SHORT:-20000}
LONG=${LONG:-120000}
cargo build --release -p asyncio-future-benches --bench workloads -q
bin=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/workloads-* | grep -v '\.d$' | head -n 1)
count() {
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
  rm -f "$out"
}
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(W1 W2 W3 W4 W5)
for w in "${workloads[@]}"; do
  a=$(count "$w" "$SHORT")
  b=$(count "$w" "$LONG")
  echo "$w $(( (b - a) / (LONG - SHORT) )) instructions/op"
done
