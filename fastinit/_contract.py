"""The contract constants shared by C, Cython, Python and the tests: their single source.

``csrc/fi_contract.h`` is generated from this file by ``tools/gen_contract_header.py`` (as
``csrc/fi_mathspec.h`` is from ``fastinit/_mathspec.py``); ``tests/test_contract.py`` fails
when the header is stale, when the compiled extension was built from other values, or when a
copy of one of these values appears anywhere else in the sources. Everything that needs one
of them imports it from here (Python) or includes the generated header (C, Cython).

- dtype codes and element sizes: the ``fi_dtype`` codes of the C API (``fastinit.h``);
- distribution codes: the rows of the kernel tables (``fi_internal.h``), also the ``dist``
  of a prepared call (``fastinit._call``);
- Philox4x32-10: round multipliers, Weyl (key schedule) constants and round count, from
  "Parallel random numbers: as easy as 1, 2, 3" - Salmon, Moraes, Dror & Shaw (SC'11);
- the thread pool: fills of at least ``PARALLEL_MIN_BYTES`` are cut over threads, and
  ``set_num_threads`` accepts 1 .. ``MAX_THREADS``.

The dtype and distribution codes, element sizes and Philox constants are part of the stream
contract (docs/stream-contract.md); the two thread constants are not (output never depends
on them), they are shared so that tests and docs use the values the C pool uses.
"""
from __future__ import annotations

# (code, name, bytes per element); the code is the position
DTYPES = (
    ("FLOAT32", "float32", 4),
    ("FLOAT64", "float64", 8),
    ("BFLOAT16", "bfloat16", 2),
    ("FLOAT16", "float16", 2),
    ("UINT32", "uint32", 4),
    ("UINT64", "uint64", 8),
)
FLOAT32, FLOAT64, BFLOAT16, FLOAT16, UINT32, UINT64 = range(len(DTYPES))
DTYPE_NAMES = {code: name for code, (_, name, _) in enumerate(DTYPES)}
ITEMSIZE = {code: size for code, (_, _, size) in enumerate(DTYPES)}
FLOAT_DTYPES = (FLOAT32, FLOAT64, BFLOAT16, FLOAT16)
BITS_DTYPES = (UINT32, UINT64)

# distribution codes (rows of the kernel tables); the code is the position
DISTRIBUTIONS = ("BITS", "UNIFORM", "NORMAL", "TRUNC_NORMAL", "CONSTANT")
BITS, UNIFORM, NORMAL, TRUNC_NORMAL, CONSTANT = range(len(DISTRIBUTIONS))
# how many float64 parameters each distribution takes, in fi_prepare's order
PARAM_COUNT = {BITS: 0, UNIFORM: 2, NORMAL: 2, TRUNC_NORMAL: 4, CONSTANT: 1}

# Philox4x32-10 (Salmon et al. 2011, Random123)
PHILOX_M0 = 0xD2511F53  # round multipliers
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9  # Weyl key increments: golden ratio
PHILOX_W1 = 0xBB67AE85  # sqrt(3) - 1
PHILOX_ROUNDS = 10

# thread pool (csrc/threads.c)
PARALLEL_MIN_BYTES = 256 * 1024  # smaller fills run on the calling thread: waking a worker costs more
MAX_THREADS = 256
