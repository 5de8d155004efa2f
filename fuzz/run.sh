#!/usr/bin/env bash
# Runs a cargo-fuzz campaign on the stable toolchain.
#
#   fuzz/run.sh TARGET SECONDS     one target (parse, replay, api_ops,
#                                  differential, threads)
#   fuzz/run.sh all SECONDS        every target, one after the other
#
# Without a sanitizer by default (`--sanitizer none`); ASAN=1 (or
# RUSTC_BOOTSTRAP=1 in the environment) builds with AddressSanitizer on
# stable through RUSTC_BOOTSTRAP. Debug assertions are on. Each input gets
# `-timeout` seconds and the process `-rss_limit_mb`. New corpus units go to
# fuzz/work/TARGET (not committed); the seeds are the committed corpus
# fuzz/corpus/TARGET and, for the trace targets, tests/vectors with the
# dictionary fuzz/trace.dict. CMIN=1 merges the new units into the committed
# corpus afterwards (`cargo fuzz cmin`, keeping the smallest set of inputs
# that covers every edge).
#
# A crash, timeout or out-of-memory input is minimised (`cargo fuzz tmin`)
# into fuzz/regressions/TARGET/, which `cargo test` replays
# (verification/harness/tests/fuzz_replay.rs), and the script exits non-zero. It prints, per
# target, the time, executions, executions per second and libFuzzer's final
# coverage (`cov:` edges, `ft:` features). Logs: fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(parse replay api_ops differential threads)
TIMEOUT=${TIMEOUT:-10}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-2048}

usage() {
    echo "usage: fuzz/run.sh TARGET|all SECONDS  (targets: ${TARGETS[*]})" >&2
    exit 2
}

[ $# -eq 2 ] || usage
[[ $2 =~ ^[0-9]+$ ]] || usage
case " all ${TARGETS[*]} " in *" $1 "*) ;; *) usage ;; esac

sanitizer=none
if [ "${ASAN:-0}" = 1 ] || [ "${RUSTC_BOOTSTRAP:-0}" = 1 ]; then
    export RUSTC_BOOTSTRAP=1
    sanitizer=address
fi
fuzz() { cargo fuzz "$1" --sanitizer "$sanitizer" --debug-assertions "${@:2}"; }

mkdir -p fuzz/logs
echo "=== cargo fuzz build (sanitizer: $sanitizer)"
fuzz build

summary=()
failed=0

campaign() {
    local target=$1 seconds=$2
    local log
    log="fuzz/logs/$target-$(date -u +%Y%m%dT%H%M%SZ).log"
    mkdir -p "fuzz/work/$target" "fuzz/corpus/$target" "fuzz/artifacts/$target" "fuzz/regressions/$target"
    local seeds=("fuzz/corpus/$target") extra=()
    case $target in
        parse | replay)
            seeds+=(tests/vectors)
            extra+=(-dict=fuzz/trace.dict)
            ;;
    esac
    echo "=== $target: $seconds s (log $log)"
    local started status=0
    started=$(date +%s)
    fuzz run "$target" "fuzz/work/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_LIMIT_MB" \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/" \
        "${extra[@]}" >"$log" 2>&1 || status=$?
    local elapsed=$(($(date +%s) - started))
    local execs speed cov ft
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    # From libFuzzer's status lines (`#N  NEW  cov: A ft: B corp: ...`).
    cov=$( (grep -o ' cov: [0-9]* ft: [0-9]*' "$log" || true) | tail -n 1 | cut -d' ' -f3)
    ft=$( (grep -o ' cov: [0-9]* ft: [0-9]*' "$log" || true) | tail -n 1 | cut -d' ' -f5)
    local line="$target: ${elapsed} s, ${execs:-?} execs, ${speed:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}"
    if [ "$status" -ne 0 ]; then
        failed=1
        local artifact
        artifact=$(grep -o "fuzz/artifacts/$target/[a-z-]*-[0-9a-f]*" "$log" | tail -n 1 || true)
        line="$line: FAILED (exit $status)"
        if [ -n "$artifact" ] && [ -f "$artifact" ]; then
            local name kept
            name=$(basename "$artifact")
            kept="fuzz/regressions/$target/$name"
            if fuzz tmin "$target" "$artifact" -- -runs=2000 >"$log.tmin" 2>&1; then
                local minimized
                minimized=$(grep -o "fuzz/artifacts/$target/minimized-from-[0-9a-f]*" "$log.tmin" | tail -n 1 || true)
                if [ -n "$minimized" ] && [ -f "$minimized" ]; then
                    artifact=$minimized
                fi
            fi
            cp "$artifact" "$kept"
            line="$line; input kept as $kept"
        fi
        tail -n 40 "$log" >&2
    elif [ "${CMIN:-0}" = 1 ]; then
        cp -n "fuzz/work/$target"/* "fuzz/corpus/$target"/ 2>/dev/null || true
        # Edges only, smallest covering set: a small corpus to commit.
        fuzz cmin "$target" "fuzz/corpus/$target" -- -rss_limit_mb="$RSS_LIMIT_MB" -timeout="$TIMEOUT" \
            -set_cover_merge=1 -use_counters=0 >"$log.cmin" 2>&1
        line="$line; corpus $(find "fuzz/corpus/$target" -type f | wc -l) files after cmin"
    fi
    echo "$line"
    summary+=("$line")
}

if [ "$1" = all ]; then
    for t in "${TARGETS[@]}"; do campaign "$t" "$2"; done
else
    campaign "$1" "$2"
fi

echo "=== summary"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "fuzz/run.sh: a target failed; see the log and fuzz/regressions/" >&2
    exit 1
fi
