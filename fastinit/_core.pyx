# cython: language_level=3
"""The C backend: a thin layer over csrc/fastinit.h.

It takes a writable C-contiguous buffer, releases the GIL and calls one C entry point (for
a large buffer, once per chunk, checking for Ctrl-C between chunks). Each fill is one
prepared call: ``fi_prepare`` (csrc/fastinit.c) checks and resolves it once, for the whole
range, and ``fi_run_prepared`` writes the chunks without checking again.
Arguments arrive resolved by fastinit._call (which raises the user-facing errors); the status
codes of fi_prepare are still turned into exceptions here, as a second line of defence for
anyone calling this module directly.
"""
from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.exc cimport PyErr_CheckSignals, PyErr_Clear, PyErr_Occurred
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.time cimport monotonic_ns
from libc.stdint cimport UINT64_MAX, int64_t, uint32_t, uint64_t


cdef extern from "Python.h":
    # declared here without an exception clause: the callers test PyErr_Occurred themselves
    double PyLong_AsDouble(object value)
    unsigned long long PyLong_AsUnsignedLongLong(object value)


cdef extern from "fi_contract.h" nogil:
    # generated from fastinit/_contract.py (tools/gen_contract_header.py)
    int FI_FLOAT32, FI_FLOAT64, FI_BFLOAT16, FI_FLOAT16, FI_UINT32, FI_UINT64, FI_DTYPE_COUNT
    int FI_DIST_BITS, FI_DIST_UNIFORM, FI_DIST_NORMAL, FI_DIST_TRUNC_NORMAL, FI_DIST_CONSTANT, FI_DIST_COUNT
    int FI_ELEM_SIZE(int dtype)
    uint32_t FI_PHILOX_M0, FI_PHILOX_M1, FI_PHILOX_W0, FI_PHILOX_W1
    int FI_PHILOX_ROUNDS
    unsigned int FI_PARALLEL_MIN_BYTES
    int FI_MAX_THREADS


cdef extern from "fastinit.h" nogil:
    void fi_philox4x32(const uint32_t *counter, const uint32_t *key, uint32_t *out)
    int fi_isa_init()
    const char *fi_isa_name()
    int fi_isa_select(const char *name)
    int fi_isa_available(const char *name)
    const char *fi_isa_at(int index)
    int fi_isa_compiled(const char *name)
    int fi_set_num_threads(int n)
    int fi_get_num_threads()
    double fi_normal_cdf(double x)
    double fi_normal_ppf(double p)
    const char *fi_status_string(int status)
    int fi_contract_version()
    int FI_OK
    int FI_E_DTYPE
    int FI_E_PARAM
    int FI_E_ISA
    int FI_E_RANGE
    int FI_E_NULL


cdef extern from "fi_internal.h" nogil:
    ctypedef struct fi_prepared:
        uint64_t count
        size_t elem_size
    int fi_prepare(fi_prepared *prep, int dist, int dtype, void *out, uint64_t count, uint64_t seed,
                   uint64_t stream, uint64_t offset, const double *params)
    void fi_run_prepared(const fi_prepared *prep, uint64_t begin, uint64_t n)
    void fi_prepared_key(fi_prepared *prep, uint64_t seed, uint64_t stream)


NAME = "c"
CONTRACT_VERSION = fi_contract_version()  # compiled in from csrc/fi_mathspec.h

# The contract constants this extension was compiled with (csrc/fi_contract.h), for the test
# that they match fastinit/_contract.py.
COMPILED_CONTRACT = {
    "DTYPES": (FI_FLOAT32, FI_FLOAT64, FI_BFLOAT16, FI_FLOAT16, FI_UINT32, FI_UINT64, FI_DTYPE_COUNT),
    "ITEMSIZE": tuple(FI_ELEM_SIZE(code) for code in range(FI_DTYPE_COUNT)),
    "DISTRIBUTIONS": (FI_DIST_BITS, FI_DIST_UNIFORM, FI_DIST_NORMAL, FI_DIST_TRUNC_NORMAL, FI_DIST_CONSTANT,
                      FI_DIST_COUNT),
    "PHILOX": (FI_PHILOX_M0, FI_PHILOX_M1, FI_PHILOX_W0, FI_PHILOX_W1, FI_PHILOX_ROUNDS),
    "PARALLEL_MIN_BYTES": FI_PARALLEL_MIN_BYTES,
    "MAX_THREADS": FI_MAX_THREADS,
}


cdef inline int _raise_for(int status) except -1:
    if status == FI_OK:
        return 0
    message = fi_status_string(status).decode()
    if status == FI_E_DTYPE:
        raise TypeError(f"fastinit C core: {message}")
    raise ValueError(f"fastinit C core: {message}")


# Large fills run in chunks of whole elements; between chunks the GIL is taken back for a
# moment to run Python's signal handlers, so Ctrl-C stops a multi-GiB fill within one chunk
# (docs/concurrency.md). Every element is a pure function of its index (offset + i), so the
# cuts change no bit, even inside a Box-Muller pair.
# The first chunk is sized per distribution (the cheaper per element, the longer): about
# 1-12 ms of work on AVX-512 and at most ~70 ms on the scalar kernels (2 threads, measured).
# Later chunks double while one takes under CHUNK_GROW_NS of wall time and halve when one
# takes over CHUNK_SHRINK_NS, so a chunk lasts 10-40 ms whatever the kernel speed and the
# load of the machine, and the round trip of the thread pool at each boundary (a wake-up,
# slower on a loaded machine) stays lost in the noise. A fill of at most one first chunk is
# one C call.
# Indexed by distribution code (bits, uniform, normal, trunc_normal, constant).
cdef uint64_t[5] FIRST_CHUNK = [1 << 22, 1 << 22, 1 << 21, 1 << 20, 1 << 22]
cdef uint64_t MIN_CHUNK = 1 << 16
cdef uint64_t MAX_CHUNK = 1 << 28
cdef int64_t CHUNK_GROW_NS = 10_000_000
cdef int64_t CHUNK_SHRINK_NS = 40_000_000
# Fills of at most this many elements keep the GIL (at most ~40 us, a float64 truncated normal
# on the scalar kernels): for them releasing and re-taking it would be a large part of the call.
cdef uint64_t SMALL_FILL = 4096
assert FI_DIST_COUNT == 5, "FIRST_CHUNK has one entry per distribution"


def chunk_elements(int dist):
    """Elements in the first chunk of a large fill of distribution code ``dist``
    (fastinit._contract: BITS, UNIFORM, NORMAL, TRUNC_NORMAL, CONSTANT); for tests."""
    if dist < 0 or dist >= FI_DIST_COUNT:
        raise ValueError(f"unknown distribution code {dist}")
    return FIRST_CHUNK[dist]


cdef int _run(const fi_prepared *prep, int dist) except -1:
    """Write a prepared fill: one C call when it is small, else chunk by chunk with a signal
    check between chunks. Nothing is checked again: fi_prepare checked the whole range."""
    cdef uint64_t count = prep.count
    cdef uint64_t chunk = FIRST_CHUNK[dist]
    cdef uint64_t done = 0, n
    cdef int64_t started, took
    if count <= chunk:  # small and medium fills: one C call, no signal check
        if count <= SMALL_FILL:  # releasing and taking back the GIL costs more than these fills
            fi_run_prepared(prep, 0, count)
        else:
            with nogil:
                fi_run_prepared(prep, 0, count)
        return 0
    while done < count:
        n = count - done if count - done < chunk else chunk
        started = monotonic_ns()
        with nogil:
            fi_run_prepared(prep, done, n)
        took = monotonic_ns() - started
        done += n
        if done < count:
            PyErr_CheckSignals()  # raises KeyboardInterrupt etc.; the rest stays unwritten
            if took < CHUNK_GROW_NS and chunk < MAX_CHUNK:
                chunk *= 2
            elif took > CHUNK_SHRINK_NS and chunk > MIN_CHUNK:
                chunk //= 2
    return 0


cdef int _fill(int dist, object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset,
               const double *p) except -1:
    """Fill a writable C-contiguous buffer: acquire it, prepare the call once, run it."""
    cdef Py_buffer view
    cdef fi_prepared prep
    cdef Py_ssize_t size = FI_ELEM_SIZE(dtype)
    if size == 0:
        raise TypeError(f"unknown dtype code {dtype}")
    PyObject_GetBuffer(out, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
    try:
        if view.len % size:
            raise ValueError(f"buffer of {view.len} bytes is not a whole number of {size}-byte elements")
        _raise_for(fi_prepare(&prep, dist, dtype, view.buf, <uint64_t>(view.len // size), seed, stream,
                              offset, p))
        return _run(&prep, dist)
    finally:
        PyBuffer_Release(&view)


cdef inline int _params(object resolved, int *dist, int *dtype, double *p) except -1:
    """Unpack a resolved call (dist, dtype, p0, p1, p2, p3) from fastinit._call."""
    if type(resolved) is not tuple or len(<tuple>resolved) != 6:
        raise TypeError("resolved must be a tuple made by fastinit._call.resolve")
    dist[0] = resolved[0]
    dtype[0] = resolved[1]
    p[0] = resolved[2]
    p[1] = resolved[3]
    p[2] = resolved[4]
    p[3] = resolved[5]
    return 0


cdef inline bint _plain_u64(object value, uint64_t *out) noexcept:
    """value as a uint64 when it is exactly an int in [0, 2^64)."""
    if type(value) is not int:
        return False
    out[0] = PyLong_AsUnsignedLongLong(value)
    if out[0] == <uint64_t>-1 and PyErr_Occurred():  # negative or >= 2^64
        PyErr_Clear()
        return False
    return True


cdef inline bint _plain_double(object value, double *out) noexcept:
    """value as a double when it is exactly a float or an int (rounded as float(value) does)."""
    if type(value) is float:
        out[0] = PyFloat_AS_DOUBLE(value)
        return True
    if type(value) is int:
        out[0] = PyLong_AsDouble(value)
        if out[0] == -1.0 and PyErr_Occurred():  # beyond float64: the general path says so
            PyErr_Clear()
            return False
        return True
    return False


cdef uint64_t _u64(object value, str name) except? 0xFFFFFFFFFFFFFFFF:
    """value as a uint64; the errors of fastinit._generator.check_u64 otherwise."""
    cdef uint64_t out
    if _plain_u64(value, &out):
        return out
    from ._generator import check_u64

    return check_u64(name, value)  # raises TypeError/ValueError, or converts an integer type


def fill(object out, object resolved, object seed, object stream, object offset):
    """Fill the writable C-contiguous buffer ``out`` (of the resolved call's dtype) with the
    call ``resolved`` (from fastinit._call.resolve) at (seed, stream, offset)."""
    cdef int dist, dtype
    cdef double[4] p
    _params(resolved, &dist, &dtype, p)
    _fill(dist, out, dtype, _u64(seed, "seed"), _u64(stream, "stream"), _u64(offset, "offset"), p)


def fill_raw(object address, object count, int dtype, object seed, object stream, object offset,
             object resolved):
    """Fill ``count`` elements of dtype code ``dtype`` at memory ``address`` (an int: a torch
    tensor's data_ptr(), ...) with the call ``resolved`` (fastinit._call.resolve), the elements
    being stream indices offset .. offset + count - 1. Every argument is checked before anything
    is written (ValueError / TypeError); the memory itself must be valid, writable and at least
    count elements long: that is the caller's promise."""
    cdef int dist, rdtype
    cdef double[4] p
    cdef fi_prepared prep
    _params(resolved, &dist, &rdtype, p)
    if rdtype != dtype:
        raise ValueError(f"the call was resolved for dtype code {rdtype}, not {dtype}")
    cdef uint64_t n = _u64(count, "count")
    cdef uint64_t addr = _u64(address, "address")
    if addr > <uint64_t>(<size_t>-1):
        raise ValueError(f"address={address} does not fit a pointer")
    cdef int status = fi_prepare(&prep, dist, dtype, <void *><size_t>addr, n, _u64(seed, "seed"),
                                 _u64(stream, "stream"), _u64(offset, "offset"), p)
    if status == FI_E_RANGE:  # the message fastinit._api gives for buffers
        raise ValueError(f"offset={offset} + {count} elements overflows the element index (must be <= 2**64)")
    if status == FI_E_NULL:
        raise ValueError("address is NULL")
    _raise_for(status)
    _run(&prep, dist)


# ------------------------------------------------------------- the fast path of the API
#
# fastinit._api's fills first offer their arguments here. The common call (an ndarray of a
# known native dtype, plain float/int parameters, an int seed or the default generator) is
# filled with one fi_prepare and no Python-level check; anything else, and every failure
# (a read-only or strided buffer, a parameter fi_prepare refuses...), returns False with
# nothing written and no stream taken, and fastinit._api's general path then runs (and raises
# the user-facing error). The checks are those of fi_prepare, the same that guard every fill.

cdef dict _DTYPE_CODES = None  # numpy dtype -> fi_dtype code: fastinit._api's table (set_fast_path)
cdef object _FLOAT32_DTYPE = None  # its float32 entry, tried first by identity (no hashing)
cdef object _NDARRAY = None
cdef object _BACKEND = None     # the fastinit._backend module
cdef object _SELF = None        # this module
cdef object _DEFAULT_GENERATOR = None


def set_fast_path(dict codes, object ndarray, object backend, object default_generator):
    """Called once by fastinit._api: its dtype table, numpy.ndarray, fastinit._backend (whose
    active backend must be this module for the fast path to run) and the default generator."""
    global _DTYPE_CODES, _FLOAT32_DTYPE, _NDARRAY, _BACKEND, _SELF, _DEFAULT_GENERATOR
    import sys

    _DTYPE_CODES, _NDARRAY, _BACKEND, _DEFAULT_GENERATOR = codes, ndarray, backend, default_generator
    _FLOAT32_DTYPE = next(dtype for dtype, code in codes.items() if code == FI_FLOAT32)
    _SELF = sys.modules[__name__]


cdef bint _try(object buf, int dist, int want_code, const double *p, object seed, object stream,
               object offset, object generator) except -1:
    cdef Py_buffer view
    cdef fi_prepared prep
    cdef uint64_t s = 0, st = 0, off = 0
    cdef bint take = False
    if _BACKEND is None or _BACKEND._active is not _SELF or type(buf) is not _NDARRAY:
        return False
    cdef int code
    dtype = (<object>buf).dtype
    if dtype is _FLOAT32_DTYPE:
        code = FI_FLOAT32
    else:
        code_obj = _DTYPE_CODES.get(dtype)
        if code_obj is None:
            return False
        code = code_obj
    if want_code >= 0 and code != want_code:
        return False
    if generator is not None or not _plain_u64(offset, &off):
        return False
    if seed is None:
        if stream is not None:
            return False
        take = True  # the default generator's next stream, taken once everything is checked
    elif not _plain_u64(seed, &s) or (stream is not None and not _plain_u64(stream, &st)):
        return False
    try:
        PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
    except (BufferError, ValueError):  # read-only or not C-contiguous: the general path says which
        return False
    try:
        if fi_prepare(&prep, dist, code, view.buf, <uint64_t>(view.len // FI_ELEM_SIZE(code)), s, st, off,
                      p) != FI_OK:
            return False
        if take:
            s, st = _DEFAULT_GENERATOR.take()
            fi_prepared_key(&prep, s, st)
        _run(&prep, dist)
        return True
    finally:
        PyBuffer_Release(&view)


def try_fill(object buf, int dist, object a, object b, object c, object d, object seed, object stream,
             object offset, object generator):
    """The fast path for a distribution with parameters (a, b, c, d) as given by the caller
    (unused ones 0.0): True when ``buf`` was filled, False (nothing written, no stream taken)
    when the general path must run."""
    cdef double[4] p
    if not (_plain_double(a, &p[0]) and _plain_double(b, &p[1]) and _plain_double(c, &p[2])
            and _plain_double(d, &p[3])):
        return False
    return _try(buf, dist, -1, p, seed, stream, offset, generator)


def try_fill2(object buf, int dist, object a, object b, object seed, object stream, object offset,
              object generator):
    """try_fill for a distribution of two parameters (uniform, normal): fewer arguments to pass."""
    cdef double[4] p = [0.0, 0.0, 0.0, 0.0]
    if not (_plain_double(a, &p[0]) and _plain_double(b, &p[1])):
        return False
    return _try(buf, dist, -1, p, seed, stream, offset, generator)


def try_fill_resolved(object buf, object resolved, object seed, object stream, object offset, object generator):
    """The fast path for a resolved call (fastinit._call) whose dtype must be the buffer's."""
    cdef int dist, code
    cdef double[4] p
    _params(resolved, &dist, &code, p)
    return _try(buf, dist, code, p, seed, stream, offset, generator)


def fill_bits(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset):
    _fill(FI_DIST_BITS, out, dtype, seed, stream, offset, NULL)


def fill_uniform(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset,
                 double low, double high):
    cdef double[2] p = [low, high]
    _fill(FI_DIST_UNIFORM, out, dtype, seed, stream, offset, p)


def fill_normal(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset,
                double mean, double std):
    cdef double[2] p = [mean, std]
    _fill(FI_DIST_NORMAL, out, dtype, seed, stream, offset, p)


def fill_trunc_normal(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset,
                      double mean, double std, double a, double b):
    cdef double[4] p = [mean, std, a, b]
    _fill(FI_DIST_TRUNC_NORMAL, out, dtype, seed, stream, offset, p)


def fill_constant(object out, int dtype, double value):
    cdef double[1] p = [value]
    _fill(FI_DIST_CONSTANT, out, dtype, 0, 0, 0, p)


def philox4x32(counter, key):
    """One Philox4x32-10 block: 4 counter words and 2 key words (each in [0, 2^32))."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t o[4]
    c[0], c[1], c[2], c[3] = counter
    k[0], k[1] = key
    fi_philox4x32(c, k, o)
    return (o[0], o[1], o[2], o[3])


def normal_cdf(double x):
    return fi_normal_cdf(x)


def normal_ppf(double p):
    return fi_normal_ppf(p)


def isa():
    return fi_isa_name().decode()


def _known_isas():
    cdef int i = 0
    names = []
    while fi_isa_at(i) != NULL:
        names.append(fi_isa_at(i).decode())
        i += 1
    return tuple(names)


ISAS = _known_isas()  # every level fastinit knows, lowest first: csrc/dispatch.c's descriptor list


def compiled_isas():
    """The instruction-set levels whose kernels are in this build, lowest first."""
    return tuple(name for name in ISAS if fi_isa_compiled(name.encode()))


def available_isas():
    """The instruction-set levels this CPU and build can run, lowest first."""
    return tuple(name for name in ISAS if fi_isa_available(name.encode()))


def _why_not(name):
    if name not in ISAS:
        return f"unknown instruction set (known: {', '.join(ISAS)})"
    if name not in compiled_isas():
        return f"this build of fastinit has no {name} kernels (compiled in: {', '.join(compiled_isas())})"
    return f"this CPU cannot run it (available here: {', '.join(available_isas())})"


def init_isa():
    """Choose the kernel table (best level, or FASTINIT_ISA); ValueError if that names a
    level this CPU or build cannot run."""
    import os

    if fi_isa_init() != FI_OK:
        forced = os.environ.get("FASTINIT_ISA", "")
        raise ValueError(f"FASTINIT_ISA={forced!r}: {_why_not(forced)}")


def select_isa(str name):
    """Force the kernel table by name (one of ISAS that available_isas() lists)."""
    if fi_isa_select(name.encode()) != FI_OK:
        raise ValueError(f"instruction set {name!r} is not available here: {_why_not(name)}")


def set_num_threads(int n):
    if fi_set_num_threads(n) != FI_OK:
        raise ValueError(f"number of threads must be in [1, {FI_MAX_THREADS}], got {n}")


def get_num_threads():
    return fi_get_num_threads()
