# cython: language_level=3
"""The C backend: a thin layer over csrc/fastinit.h.

It takes a writable C-contiguous buffer, releases the GIL and calls one C entry point (for
a large buffer, once per chunk, checking for Ctrl-C between chunks).
Arguments arrive validated by fastinit._api (which raises the user-facing errors); the status
codes of the C entry points are still turned into exceptions here, as a second line of
defence for anyone calling this module directly.
"""
from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.exc cimport PyErr_CheckSignals
from cpython.time cimport monotonic_ns
from libc.stdint cimport UINT64_MAX, int64_t, uint32_t, uint64_t


cdef extern from "fastinit.h" nogil:
    int fi_fill_bits(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream, uint64_t offset)
    int fi_fill_uniform(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                        uint64_t offset, double low, double high)
    int fi_fill_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                       uint64_t offset, double mean, double std)
    int fi_fill_trunc_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                             uint64_t offset, double mean, double std, double a, double b)
    int fi_fill_constant(void *out, uint64_t count, int dtype, double value)
    void fi_philox4x32(const uint32_t *counter, const uint32_t *key, uint32_t *out)
    int fi_isa_init()
    const char *fi_isa_name()
    int fi_isa_select(const char *name)
    int fi_isa_available(const char *name)
    int fi_set_num_threads(int n)
    int fi_get_num_threads()
    double fi_normal_cdf(double x)
    double fi_normal_ppf(double p)
    const char *fi_status_string(int status)
    int fi_contract_version()
    int FI_OK
    int FI_E_DTYPE
    int FI_E_ISA
    int FI_E_RANGE

NAME = "c"
CONTRACT_VERSION = fi_contract_version()  # compiled in from csrc/fi_mathspec.h

# bytes per element of each fi_dtype code (float32, float64, bfloat16, float16, uint32, uint64)
cdef Py_ssize_t[6] ITEMSIZE = [4, 8, 2, 2, 4, 8]


cdef inline int _raise_for(int status) except -1:
    if status == FI_OK:
        return 0
    message = fi_status_string(status).decode()
    if status == FI_E_DTYPE:
        raise TypeError(f"fastinit C core: {message}")
    raise ValueError(f"fastinit C core: {message}")


cdef inline uint64_t _acquire(object out, Py_buffer *view, int dtype) except? 0xFFFFFFFFFFFFFFFF:
    if dtype < 0 or dtype > 5:
        raise TypeError(f"unknown dtype code {dtype}")
    PyObject_GetBuffer(out, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
    if view.len % ITEMSIZE[dtype]:
        PyBuffer_Release(view)
        raise ValueError(f"buffer of {view.len} bytes is not a whole number of {ITEMSIZE[dtype]}-byte elements")
    return <uint64_t>(view.len // ITEMSIZE[dtype])


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
# one C call, as before.
cdef enum:
    DIST_BITS = 0
    DIST_UNIFORM = 1
    DIST_NORMAL = 2
    DIST_TRUNC_NORMAL = 3
    DIST_CONSTANT = 4

cdef uint64_t[5] FIRST_CHUNK = [1 << 22, 1 << 22, 1 << 21, 1 << 20, 1 << 22]
cdef uint64_t MIN_CHUNK = 1 << 16
cdef uint64_t MAX_CHUNK = 1 << 28
cdef int64_t CHUNK_GROW_NS = 10_000_000
cdef int64_t CHUNK_SHRINK_NS = 40_000_000


def chunk_elements(int dist):
    """Elements in the first chunk of a large fill of distribution code ``dist`` (0 bits,
    1 uniform, 2 normal, 3 trunc_normal, 4 constant); for tests."""
    if dist < 0 or dist > 4:
        raise ValueError(f"unknown distribution code {dist}")
    return FIRST_CHUNK[dist]


cdef inline int _fill_range(int dist, char *out, uint64_t count, int dtype, uint64_t seed,
                            uint64_t stream, uint64_t offset, const double *p) noexcept nogil:
    if dist == DIST_BITS:
        return fi_fill_bits(out, count, dtype, seed, stream, offset)
    if dist == DIST_UNIFORM:
        return fi_fill_uniform(out, count, dtype, seed, stream, offset, p[0], p[1])
    if dist == DIST_NORMAL:
        return fi_fill_normal(out, count, dtype, seed, stream, offset, p[0], p[1])
    if dist == DIST_TRUNC_NORMAL:
        return fi_fill_trunc_normal(out, count, dtype, seed, stream, offset, p[0], p[1], p[2], p[3])
    return fi_fill_constant(out, count, dtype, p[0])


cdef int _fill_at(int dist, char *base, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                  uint64_t offset, const double *p) except -1:
    cdef int status
    cdef uint64_t chunk = FIRST_CHUNK[dist]
    cdef uint64_t done = 0, n
    cdef int64_t started, took
    if count <= chunk:  # small and medium fills: one C call, no signal check
        with nogil:
            status = _fill_range(dist, base, count, dtype, seed, stream, offset, p)
        return _raise_for(status)
    # The C call checks the range of each chunk only: check the whole one up front, so
    # that a failing fill writes nothing (the parameters are the same for every chunk).
    if offset > UINT64_MAX - (count - 1):
        return _raise_for(FI_E_RANGE)
    while done < count:
        n = count - done if count - done < chunk else chunk
        started = monotonic_ns()
        with nogil:
            status = _fill_range(dist, base + done * <uint64_t>ITEMSIZE[dtype], n, dtype, seed,
                                 stream, offset + done, p)
        took = monotonic_ns() - started
        _raise_for(status)
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
    cdef Py_buffer view
    cdef uint64_t count = _acquire(out, &view, dtype)
    try:
        return _fill_at(dist, <char *>view.buf, count, dtype, seed, stream, offset, p)
    finally:
        PyBuffer_Release(&view)


def fill_address(int dist, size_t address, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                 uint64_t offset, double p0=0.0, double p1=0.0, double p2=0.0, double p3=0.0):
    """Internal raw entry for fastinit.torch (issue 11 item 5; the prepared-call work of the
    "calls" branch may replace it): fill ``count`` elements of dtype code ``dtype`` at the
    memory address ``address`` with distribution ``dist`` (1 uniform, 2 normal,
    3 trunc_normal, 4 constant) and parameters p0..p3 (low, high / mean, std / mean, std,
    a, b / value). The caller owns the memory (writable, C-contiguous, at least ``count``
    elements) and has checked every argument through fastinit._api; nothing here can check
    the address."""
    cdef double[4] p = [p0, p1, p2, p3]
    if dist < 1 or dist > 4:
        raise ValueError(f"unknown distribution code {dist}")
    if dtype < 0 or dtype > 3:
        raise TypeError(f"unknown float dtype code {dtype}")
    if count == 0:
        return
    if address == 0:
        raise ValueError("fill_address: null address")
    _fill_at(dist, <char *>address, count, dtype, seed, stream, offset, p)


def fill_bits(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset):
    _fill(DIST_BITS, out, dtype, seed, stream, offset, NULL)


def fill_uniform(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset,
                 double low, double high):
    cdef double[2] p = [low, high]
    _fill(DIST_UNIFORM, out, dtype, seed, stream, offset, p)


def fill_normal(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset,
                double mean, double std):
    cdef double[2] p = [mean, std]
    _fill(DIST_NORMAL, out, dtype, seed, stream, offset, p)


def fill_trunc_normal(object out, int dtype, uint64_t seed, uint64_t stream, uint64_t offset,
                      double mean, double std, double a, double b):
    cdef double[4] p = [mean, std, a, b]
    _fill(DIST_TRUNC_NORMAL, out, dtype, seed, stream, offset, p)


def fill_constant(object out, int dtype, double value):
    cdef double[1] p = [value]
    _fill(DIST_CONSTANT, out, dtype, 0, 0, 0, p)


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


ISAS = ("scalar", "avx2", "avx512")


def available_isas():
    """The instruction-set levels this CPU and build can run, lowest first."""
    return tuple(name for name in ISAS if fi_isa_available(name.encode()))


def init_isa():
    """Choose the kernel table (best level, or FASTINIT_ISA); ValueError if that names a
    level this CPU or build cannot run."""
    import os

    if fi_isa_init() != FI_OK:
        forced = os.environ.get("FASTINIT_ISA", "")
        raise ValueError(f"FASTINIT_ISA={forced!r}: this CPU or build of fastinit cannot run it "
                         f"(available: {', '.join(available_isas())})")


def select_isa(str name):
    """Force the kernel table by name ('scalar', 'avx2', 'avx512')."""
    if fi_isa_select(name.encode()) != FI_OK:
        raise ValueError(f"instruction set {name!r} is not available here "
                         f"(available: {', '.join(available_isas())})")


def set_num_threads(int n):
    if fi_set_num_threads(n) != FI_OK:
        raise ValueError(f"number of threads must be in [1, 256], got {n}")


def get_num_threads():
    return fi_get_num_threads()
