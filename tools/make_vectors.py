"""Write tests/vectors.txt: the Philox known-answer vectors and the frozen regression vectors.

The frozen vectors pin stream contract v2 (regenerated whole when v2 replaced v1, issue 12):
the first values of every (distribution, dtype)
for a few (seed, stream, offset) triples, as bit patterns. They were generated once, by the
NumPy backend, and must never be regenerated to make a test pass: a difference means the
contract changed (a breaking change: bump CONTRACT_VERSION and say so in the changelog).

Lines are only ever added, never changed, within a contract version: the short vectors (the
first 9 values) come first, then the constants and the long vectors. The long
vectors (67 values from an odd offset, and across a 2^32 block-counter carry) are what the SIMD
kernels see: 9 values are shorter than one AVX2 or AVX-512 step, which fills them with the
scalar kernels. tests/test_vectors.py checks every line under every ISA level and the NumPy
backend; the C driver under every ISA level.

Run: python tools/make_vectors.py > tests/vectors.txt
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from fastinit import _numpy  # noqa: E402
from fastinit._mathspec import CONTRACT_VERSION  # noqa: E402
from fastinit._params import BFLOAT16, DTYPE_NAMES, FLOAT16, FLOAT32, FLOAT64, UINT32, UINT64  # noqa: E402

KAT = [  # Random123 known answers for Philox4x32-10 (docs/stream-contract.md)
    ((0, 0, 0, 0), (0, 0)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0)),
]
STREAMS = [(0, 0, 0), (42, 7, 3), (2**64 - 1, 2**64 - 1, 2**64 - 9), (12345678901234567890, 3, 2**40 + 1)]
PARAMS = {
    "bits": [()],
    "uniform": [(0.0, 1.0), (-1.5, 2.25)],
    "normal": [(0.0, 1.0), (0.5, 0.02)],
    # v2's three evaluations of 32/16-bit outputs: float32 inverse CDF (+-2 std, the [4, 5] tail,
    # (-inf, -1]), bounds beyond the normal's reach (1 +- 2 with std 0.002), v1's float64 for a
    # far tail of tiny mass ([8, 8.5] std)
    "trunc_normal": [(0.0, 1.0, -2.0, 2.0), (0.0, 1.0, 4.0, 5.0), (1.0, 0.002, -2.0, 2.0),
                     (0.0, 1.0, float("-inf"), -1.0), (0.0, 1.0, 8.0, 8.5)],
}
DTYPES = {"bits": (UINT32, UINT64), "uniform": (FLOAT32, FLOAT64, BFLOAT16, FLOAT16)}
N = 9
FLOATS = (FLOAT32, FLOAT64, BFLOAT16, FLOAT16)
# below the first vectors
CONSTANTS = [0.0, -0.0, 1.0, 0.1, -1.0 / 3.0, 3e-6, 60000.0]  # 3e-6: a float16 subnormal
LONG_STREAMS = [(0x0123456789ABCDEF, 2**63 + 5, 3), (7, 0, 2**34 - 33)]  # 2^34: block 2^32 / 2^33
N_LONG = 67  # a scalar head, two AVX-512 (four AVX2) steps of 32 float32 / 16 float64, a scalar tail
STORAGE = {FLOAT32: np.float32, FLOAT64: np.float64, BFLOAT16: np.uint16, FLOAT16: np.uint16,
           UINT32: np.uint32, UINT64: np.uint64}


def bits_of(arr: np.ndarray) -> list[str]:
    width = arr.dtype.itemsize * 2
    view = arr.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[arr.dtype.itemsize])
    return [format(int(v), f"0{width}x") for v in view]


def fill_line(dist: str, dtype: int, seed: int, stream: int, offset: int, params: tuple, n: int) -> str:
    out = np.empty(min(n, 2**64 - offset), STORAGE[dtype])
    if dist == "constant":
        _numpy.fill_constant(out, dtype, *params)
    else:
        getattr(_numpy, f"fill_{dist}")(out, dtype, seed, stream, offset, *params)
    ptext = " ".join(float(p).hex() for p in params)
    head = f"fill {dist} {DTYPE_NAMES[dtype]} {seed} {stream} {offset}"
    return f"{head} {ptext} -> {' '.join(bits_of(out))}".replace("  ", " ")


def main() -> None:
    print(f"# fastinit known-answer and frozen regression vectors, stream contract v{CONTRACT_VERSION}.")
    print("# Read by tests/test_vectors.py and by the C driver tests/c/test_vectors.c.")
    print("# philox c0 c1 c2 c3 k0 k1 -> o0 o1 o2 o3            (hex words)")
    print("# fill DIST DTYPE SEED STREAM OFFSET PARAMS... -> BITS  (first values, hex bit patterns;")
    print("#      params are C99 hex floats: uniform low high, normal mean std, trunc_normal mean std a b)")
    print("# contract V: the version of the stream contract these vectors freeze (fastinit.CONTRACT_VERSION);")
    print("#      constant fills (param: value; seed, stream and offset unused, 0) and 67-value vectors")
    print("#      that reach the SIMD kernels follow the first vectors (docs/stream-contract.md).")
    print(f"contract {CONTRACT_VERSION}")
    for ctr, key in KAT:
        out = _numpy.philox4x32(ctr, key)
        print("philox", " ".join(f"{w:08x}" for w in ctr + key), "->", " ".join(f"{w:08x}" for w in out))
    for dist, plist in PARAMS.items():
        for dtype in DTYPES.get(dist, FLOATS):
            for params in plist:
                for seed, stream, offset in STREAMS:
                    print(fill_line(dist, dtype, seed, stream, offset, params, N))
    for dtype in FLOATS:
        for value in CONSTANTS:
            print(fill_line("constant", dtype, 0, 0, 0, (value,), N))
    for dist, plist in PARAMS.items():
        for dtype in DTYPES.get(dist, FLOATS):
            for params in plist:
                for seed, stream, offset in LONG_STREAMS:
                    print(fill_line(dist, dtype, seed, stream, offset, params, N_LONG))


if __name__ == "__main__":
    main()
