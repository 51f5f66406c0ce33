#!/usr/bin/env bash
# A/B the SIMD kernels of git revision OLD (default HEAD) against the working tree, in one
# process (tools/kernel_ab.c): same buffer, alternating runs, best time of each, bit check.
#   tools/kernel_ab.sh [OLD] -- ISA DIST DTYPE [ELEMENTS [ROUNDS [THREADS]]]
#   e.g. tools/kernel_ab.sh db84899 -- avx512 1 0     (uniform float32, 1 MiB, 30 rounds)
# NEW_CFLAGS (e.g. -DFI_NV=4) adds flags to the new side's kernels; KEEP_BIN=PATH keeps the driver.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old=HEAD
if [[ $# -gt 0 && $1 != -- ]]; then old=$1; shift; fi
[[ ${1:-} == -- ]] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/old"
git -C "$root" archive "$old" csrc | tar -x -C "$tmp/old"
cc=${CC:-gcc}
flags=(-O3 -fno-fast-math -ffp-contract=off -fno-strict-aliasing -std=c99)  # as setup.py
for side in old new; do
    src=$([[ $side == old ]] && echo "$tmp/old/csrc" || echo "$root/csrc")
    for isa in avx512 avx2; do
        extra=()
        [[ $side == new ]] && read -ra extra <<< "${NEW_CFLAGS:-}"
        "$cc" "${flags[@]}" "${extra[@]}" -I"$src" -c "$src/kernels_$isa.c" -o "$tmp/${side}_$isa.o"
        objcopy --redefine-sym "fi_isa_table_$isa=${side}_$isa" "$tmp/${side}_$isa.o"
    done
done
"$cc" "${flags[@]}" -I"$root/csrc" -c "$root/csrc/kernels_scalar.c" -o "$tmp/scalar.o"
"$cc" "${flags[@]}" -Wall -Wextra -pthread -I"$root/csrc" "$root/tools/kernel_ab.c" "$tmp"/*.o -lm -o "$tmp/kernel_ab"
${KEEP_BIN:+cp "$tmp/kernel_ab" "$KEEP_BIN"}
"$tmp/kernel_ab" "$@"
