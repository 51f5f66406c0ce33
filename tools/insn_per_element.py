"""Instructions per element of the SIMD kernels, counted under qemu user mode (docs/performance.md).

Speed cannot be measured for NEON on an x86 machine, but the instructions a fill executes can:
qemu logs every translated block (-d in_asm: its instructions) and every execution of one
(-d exec,nochain), so their product summed is the program's dynamic instruction count. The
driver tools/insn_count_fill.c makes one single-threaded fill and nothing else; the count
for N2 elements minus the count for N1, divided by N2 - N1, is the kernel's cost per element
(start-up, the library's init and the fill's head and tail cancel out). The AArch64 build runs
under qemu-aarch64 (NEON and scalar), the x86-64 one under qemu-x86_64 -cpu max (AVX2 and
scalar; qemu 7.2 has no AVX-512). Both are built static with setup.py's flags.

    python tools/insn_per_element.py            # prints a markdown table
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["-O3", "-fno-fast-math", "-ffp-contract=off", "-fno-strict-aliasing", "-static", "-pthread"]
TARGETS = {  # name: (compiler, emulator command, levels)
    "aarch64": ("aarch64-linux-gnu-gcc", ["qemu-aarch64"], ["scalar", "neon"]),
    "x86_64": ("gcc", ["qemu-x86_64", "-cpu", "max"], ["scalar", "avx2"]),
}
CASES = [  # (label, dist, fi_dtype code)
    ("bits uint32", "bits", 4),
    ("uniform float32", "uniform", 0),
    ("normal float32", "normal", 0),
    ("normal bfloat16", "normal", 2),
    ("trunc_normal float32, a=-2 b=2 std=0.02", "trunc_normal", 0),
    ("trunc_normal float32, +-2 std", "trunc_normal_2std", 0),
    ("uniform float64", "uniform", 1),
    ("normal float64", "normal", 1),
]
N1, N2 = 4096, 4096 + 65536


def build(target: str, out: Path) -> Path:
    cc = TARGETS[target][0]
    exe = out / f"fill_{target}"
    sources = [str(ROOT / "tools/insn_count_fill.c"), *sorted(str(p) for p in (ROOT / "csrc").glob("*.c"))]
    subprocess.run([cc, *FLAGS, f"-I{ROOT / 'csrc'}", *sources, "-lm", "-o", str(exe)], check=True)
    return exe


def count(target: str, exe: Path, isa: str, dist: str, dtype: int, n: int, log: Path) -> int:
    """Instructions the program executes for one fill of n elements."""
    cmd = [*TARGETS[target][1], "-d", "in_asm,exec,nochain", "-D", str(log), str(exe), isa, dist, str(dtype), str(n)]
    subprocess.run(cmd, check=True, capture_output=True)
    size: dict[int, int] = {}  # translated block's guest address -> its instructions
    total = 0
    block = None  # the block being listed after an "IN:" line
    with open(log) as f:
        for line in f:
            if line.startswith("IN:"):
                block = -1
            elif block is not None and line.startswith("0x"):
                if block == -1:
                    block = int(line.split(":")[0], 16)
                    size[block] = 0
                size[block] += 1
            elif line.startswith("Trace"):
                block = None
                total += size[int(re.search(r"\[[0-9a-f]+/([0-9a-f]+)/", line).group(1), 16)]
            elif not line.strip():
                block = None
    return total


def main() -> int:
    per_element: dict[tuple[str, str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for target, (_, _, levels) in TARGETS.items():
            exe = build(target, out)
            for label, dist, dtype in CASES:
                for isa in levels:
                    a = count(target, exe, isa, dist, dtype, N1, out / "a.log")
                    b = count(target, exe, isa, dist, dtype, N2, out / "b.log")
                    per_element[label, target, isa] = (b - a) / (N2 - N1)
    print(f"instructions per element, ({N2} - {N1})-element difference, one thread")
    print("| fill | x86-64 scalar | AVX2 | AArch64 scalar | NEON | NEON / AVX2 |")
    print("|---|---|---|---|---|---|")
    for label, _, _ in CASES:
        xs, avx2 = per_element[label, "x86_64", "scalar"], per_element[label, "x86_64", "avx2"]
        als, neon = per_element[label, "aarch64", "scalar"], per_element[label, "aarch64", "neon"]
        print(f"| {label} | {xs:.1f} | {avx2:.2f} | {als:.1f} | {neon:.2f} | {neon / avx2:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
