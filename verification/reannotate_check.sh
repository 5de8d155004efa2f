#!/usr/bin/env bash
# Re-annotate every committed vector (tests/vectors/*.trace) with CPython's
# asyncio and fail when any file differs from its re-annotation, byte for
# byte. All files are replayed in one python3 process.
#
# Usage: verification/reannotate_check.sh [VECTOR_DIR]
# Exit: 0 when every vector is identical to its re-annotation; 1 otherwise
# (differences and failing files are listed).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/tests/vectors}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "reannotate_check: $python is older than 3.11; the oracle needs CPython 3.11+" >&2
    exit 1
fi

shopt -s nullglob
files=("$dir"/*.trace)
if [ "${#files[@]}" -eq 0 ]; then
    echo "reannotate_check: no *.trace files in $dir" >&2
    exit 1
fi

status=0
"$python" "$root/verification/cpython_oracle.py" run --check "${files[@]}" || status=$?
if [ "$status" -ne 0 ]; then
    echo "reannotate_check: vectors differ from CPython's re-annotation (or are malformed); see FAILED lines above" >&2
    exit 1
fi
