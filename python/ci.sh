#!/usr/bin/env bash
# Builds the binding's wheel for each CPython (3.11, 3.12, 3.13 from pyenv,
# or the interpreters given), installs it into a fresh virtual environment,
# and runs there: CPython's own Future tests with our class
# (python/tests, `python -m unittest`), and every conformance vector through
# the oracle with `--impl rust` (our Future) and `--impl py` (`_PyFuture`):
# all pass on 3.11, and on every version they agree with the C Future. Any failure fails the script.
#
#   python/ci.sh                 3.11, 3.12 and 3.13
#   python/ci.sh /path/python3   the interpreters given
set -euo pipefail
cd "$(dirname "$0")/.."

interpreters=("$@")
if [ ${#interpreters[@]} -eq 0 ]; then
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for v in 3.11 3.12 3.13; do
        py=$(ls -d "$root"/versions/"$v".*/bin/python3 2>/dev/null | sort -V | tail -n 1 || true)
        [ -n "$py" ] || { echo "python/ci.sh: no CPython $v under $root/versions" >&2; exit 1; }
        interpreters+=("$py")
    done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for py in "${interpreters[@]}"; do
    version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    echo "--- CPython $version ($py)"
    env="$work/venv-$version"
    "$py" -m venv "$env"
    "$env/bin/pip" install -q --disable-pip-version-check maturin
    "$env/bin/maturin" build -q --release -m python/Cargo.toml -i "$env/bin/python" --out "$work/wheels-$version"
    "$env/bin/pip" install -q --disable-pip-version-check "$work/wheels-$version"/*.whl
    (cd python/tests && "$env/bin/python" -m unittest -v 2>&1 | tail -n 4)
    # The vectors are CPython 3.11's. On 3.11 every one must pass with our
    # Future; on any version ours must differ from them exactly where that
    # interpreter's own C Future does (3.13 changed Task.uncancel).
    "$env/bin/python" verification/cpython_oracle.py run --check --impl c tests/vectors/*.trace >"$work/c-$version.txt" || true
    for impl in rust py; do
        "$env/bin/python" verification/cpython_oracle.py run --check --impl "$impl" tests/vectors/*.trace >"$work/$impl-$version.txt" || true
        for f in "$work/c-$version.txt" "$work/$impl-$version.txt"; do
            tail -n 1 "$f" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$' || { echo "python/ci.sh: the oracle did not finish ($f)" >&2; exit 1; }
        done
        echo "oracle --impl $impl: $(tail -n 1 "$work/$impl-$version.txt") (C Future: $(tail -n 1 "$work/c-$version.txt"))"
        if ! diff -q "$work/c-$version.txt" "$work/$impl-$version.txt" >/dev/null; then
            echo "python/ci.sh: --impl $impl differs from the C Future on CPython $version:" >&2
            diff "$work/c-$version.txt" "$work/$impl-$version.txt" | head -n 20 >&2
            exit 1
        fi
        if [ "$version" = 3.11 ]; then
            case $(tail -n 1 "$work/$impl-$version.txt") in *" 0 failed") ;; *) echo "python/ci.sh: vectors fail under --impl $impl on 3.11" >&2; exit 1 ;; esac
        fi
    done
    # The binding as an implementation under test of the replayer protocol
    # (spec/trace-format.md section 6): the hand-written vectors and every
    # 20th random one, one process per trace.
    if [ "$version" = 3.11 ]; then
        ft=${FUTURE_TRACE:-${CARGO_TARGET_DIR:-target}/release/future-trace}
        [ -x "$ft" ] || cargo build -q --release --bin future-trace
        sample=$(ls tests/vectors/*.trace | awk '!/\/random-/ || NR % 20 == 0')
        # shellcheck disable=SC2086
        "$ft" check --replayer "$env/bin/python verification/cpython_oracle.py run --impl rust -" --jobs 2 $sample | tail -n 1
    fi
done
