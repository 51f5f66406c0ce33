"""Build the C extension fastinit._core (Cython over csrc/).

FASTINIT_PURE_PYTHON=1 skips the extension: fastinit then runs on its pure-NumPy backend
(same bits, slower). Without that variable a failing compile is an error, never a silent
fallback. FASTINIT_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer, for
tools/sanitize.sh only (the result needs libasan preloaded; see docs/hardening.md).
"""
import os
import platform
import sys
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PURE_PYTHON = os.environ.get("FASTINIT_PURE_PYTHON", "") not in ("", "0")
SANITIZE = os.environ.get("FASTINIT_SANITIZE", "") not in ("", "0")

# -ffp-contract=off: no fused multiply-add, so C rounds exactly like the NumPy backend.
# -fno-fast-math: these flags come after CFLAGS from the environment and Python's build
# config, so they also undo GCC's fast-math option (or the "fast" -O level) found there
# (measured: fast-math alone breaks 56 of the C driver's checks, -ffp-contract=off alone
# does not repair them). Never tune for the build machine ("native" -march): the wheels must
# run on any x86-64 / arm64 CPU (SIMD paths are chosen
# at run time). On 32-bit x86, use SSE2 arithmetic, not the x87's 80-bit registers, whose
# double rounding would differ from NumPy.
GCC_FLAGS = ["-O3", "-fno-fast-math", "-ffp-contract=off", "-fno-strict-aliasing"]
if platform.machine().lower() in ("i386", "i486", "i586", "i686", "x86"):
    GCC_FLAGS += ["-msse2", "-mfpmath=sse"]
MSVC_FLAGS = ["/O2", "/fp:precise"]
# FASTINIT_SANITIZE=1 (GCC/clang only): the same flags plus ASan and UBSan, with debug info and
# frame pointers for readable reports, and every UBSan finding fatal (not just printed).
# float-cast-overflow is not part of GCC's "undefined" set: a double too large for the integer
# it is cast to is undefined behaviour in C (it hid a bug in Phi's exp until fuzzing found it).
SANITIZE_FLAGS = ["-fsanitize=address,undefined,float-cast-overflow", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]


class BuildExt(build_ext):
    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        flags = MSVC_FLAGS if msvc else GCC_FLAGS
        if SANITIZE:
            if msvc:
                raise RuntimeError("FASTINIT_SANITIZE=1 needs GCC or clang")
            flags = flags + SANITIZE_FLAGS
        for ext in self.extensions:
            ext.extra_compile_args = flags + ext.extra_compile_args
            if SANITIZE:
                ext.extra_link_args = SANITIZE_FLAGS + ext.extra_link_args
        try:
            super().build_extensions()
        except Exception as exc:  # noqa: BLE001 - re-raised with the remedy
            sys.stderr.write(
                "\nfastinit: building the C extension failed (is a C compiler installed?).\n"
                "To install the pure-NumPy backend instead (same results, slower), set\n"
                "FASTINIT_PURE_PYTHON=1 when installing.\n\n"
            )
            raise


def extensions():
    if PURE_PYTHON:
        return []
    from Cython.Build import cythonize

    ext = Extension(
        "fastinit._core",
        sources=["fastinit/_core.pyx"] + sorted(glob("csrc/*.c")),
        include_dirs=["csrc"],
        libraries=[] if sys.platform == "win32" else ["m", "pthread"],
    )
    return cythonize([ext], compiler_directives={"language_level": "3"})


if __name__ == "__main__":  # setuptools runs this file as __main__; tests read GCC_FLAGS
    setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
