"""Write tests/vectors.txt: the Philox known-answer vectors and the frozen regression vectors.

The frozen vectors pin stream contract v1: the first values of every (distribution, dtype)
for a few (seed, stream, offset) triples, as bit patterns. They were generated once, by the
NumPy backend, and must never be regenerated to make a test pass: a difference means the
contract changed (a breaking change: bump CONTRACT_VERSION and say so in the changelog).

Run: python tools/make_vectors.py > tests/vectors.txt
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from fastinit import _numpy  # noqa: E402
from fastinit._params import BFLOAT16, DTYPE_NAMES, FLOAT16, FLOAT32, FLOAT64, UINT32, UINT64  # noqa: E402

KAT = [  # Random123 known answers for Philox4x32-10 (DESIGN.md)
    ((0, 0, 0, 0), (0, 0)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0)),
]
STREAMS = [(0, 0, 0), (42, 7, 3), (2**64 - 1, 2**64 - 1, 2**64 - 9), (12345678901234567890, 3, 2**40 + 1)]
PARAMS = {
    "bits": [()],
    "uniform": [(0.0, 1.0), (-1.5, 2.25)],
    "normal": [(0.0, 1.0), (0.5, 0.02)],
    "trunc_normal": [(0.0, 1.0, -2.0, 2.0), (0.0, 1.0, 4.0, 5.0), (1.0, 0.002, -2.0, 2.0),
                     (0.0, 1.0, float("-inf"), -1.0)],
}
DTYPES = {"bits": (UINT32, UINT64), "uniform": (FLOAT32, FLOAT64, BFLOAT16, FLOAT16)}
N = 9
STORAGE = {FLOAT32: np.float32, FLOAT64: np.float64, BFLOAT16: np.uint16, FLOAT16: np.uint16,
           UINT32: np.uint32, UINT64: np.uint64}


def bits_of(arr: np.ndarray) -> list[str]:
    width = arr.dtype.itemsize * 2
    view = arr.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[arr.dtype.itemsize])
    return [format(int(v), f"0{width}x") for v in view]


def main() -> None:
    print("# fastinit known-answer and frozen regression vectors, stream contract v1.")
    print("# Read by tests/test_vectors.py and by the C driver tests/c/test_vectors.c.")
    print("# philox c0 c1 c2 c3 k0 k1 -> o0 o1 o2 o3            (hex words)")
    print("# fill DIST DTYPE SEED STREAM OFFSET PARAMS... -> BITS  (first values, hex bit patterns;")
    print("#      params are C99 hex floats: uniform low high, normal mean std, trunc_normal mean std a b)")
    for ctr, key in KAT:
        out = _numpy.philox4x32(ctr, key)
        print("philox", " ".join(f"{w:08x}" for w in ctr + key), "->", " ".join(f"{w:08x}" for w in out))
    for dist, plist in PARAMS.items():
        for dtype in DTYPES.get(dist, (FLOAT32, FLOAT64, BFLOAT16, FLOAT16)):
            for params in plist:
                for seed, stream, offset in STREAMS:
                    n = min(N, 2**64 - offset)
                    out = np.empty(n, STORAGE[dtype])
                    getattr(_numpy, f"fill_{dist}")(out, dtype, seed, stream, offset, *params)
                    ptext = " ".join(float(p).hex() for p in params)
                    head = f"fill {dist} {DTYPE_NAMES[dtype]} {seed} {stream} {offset}"
                    print(f"{head} {ptext} -> {' '.join(bits_of(out))}".replace("  ", " "))


if __name__ == "__main__":
    main()
