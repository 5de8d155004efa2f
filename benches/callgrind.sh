#!/usr/bin/env bash
# Instructions per operation of this crate's W1–W5 (benches/workloads.rs),
# counted by valgrind's callgrind: the difference between a run of LONG and
# a run of SHORT operations, divided by LONG - SHORT, so start-up and
# teardown cancel. Counts repeat exactly on a busy machine.
#   bash benches/callgrind.sh [W1 W2 ...]          this crate
#   bash benches/callgrind.sh --all [W1 W2 ...]    a table: this crate, tokio,
#       futures, the floors and the asyncio-shaped sketch (benches/peers.rs,
#       benches/sketch.rs), all from the same binary and build profile
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
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$@" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
  rm -f "$out"
}
per_op() {
  local a b
  a=$(count "$@" "$SHORT")
  b=$(count "$@" "$LONG")
  echo $(( (b - a) / (LONG - SHORT) ))
}
all=false
if [ "${1:-}" = --all ]; then all=true; shift; fi
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(W1 W2 W3 W4 W5)
if ! $all; then
  for w in "${workloads[@]}"; do
    echo "$w $(per_op crate "$w") instructions/op"
  done
  exit 0
fi
impls=(crate tokio futures floor sketch)
echo "| instructions/op | this crate | tokio | futures | floor | sketch | ×tokio | ×futures | ×sketch |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
for w in "${workloads[@]}"; do
  declare -A c=()
  for i in "${impls[@]}"; do c[$i]=$(per_op "$i" "$w"); done
  ratio() { awk -v a="${c[crate]}" -v b="$1" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
  echo "| $w | ${c[crate]} | ${c[tokio]} | ${c[futures]} | ${c[floor]} | ${c[sketch]} | $(ratio "${c[tokio]}") | $(ratio "${c[futures]}") | $(ratio "${c[sketch]}") |"
done
