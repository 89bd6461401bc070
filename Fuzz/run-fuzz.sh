#!/usr/bin/env bash
# `make fuzz`: builds the sanitized fuzz binary (Fuzz/.build, never the main .build) and runs every
# target for FUZZ_SECONDS over its seed corpus. New inputs go to Fuzz/.build/corpus/<target> (kept
# out of git; Fuzz/Corpus/<target> holds only the hand-written seeds); crashes go to Fuzz/Crashes/.
# Usage: Fuzz/run-fuzz.sh [target...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")"
SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(ls Corpus)
fi

"$SWIFT" build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product depot-fuzz
binary=.build/release/depot-fuzz

mkdir -p Crashes
failed=()
for target in "${targets[@]}"; do
    mkdir -p ".build/corpus/$target"
    echo "== $target: ${FUZZ_SECONDS}s"
    # -timeout: one input taking over 10 s is a finding too (a parser that loops); -rss_limit_mb bounds memory.
    if ! FUZZ_TARGET="$target" "$binary" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="Crashes/$target-" ".build/corpus/$target" "Corpus/$target"; then
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs in Fuzz/Crashes/; add each as a unit test, then fix)" >&2
    exit 1
fi
echo "fuzz: no crash in ${#targets[@]} targets, ${FUZZ_SECONDS}s each"
