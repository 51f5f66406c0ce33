"""Build the C extension fastinit._core (Cython over csrc/).

FASTINIT_PURE_PYTHON=1 skips the extension: fastinit then runs on its pure-NumPy backend
(same bits, slower). Without that variable a failing compile is an error, never a silent
fallback.
"""
import os
import sys
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PURE_PYTHON = os.environ.get("FASTINIT_PURE_PYTHON", "") not in ("", "0")

# -ffp-contract=off: no fused multiply-add, so C rounds exactly like the NumPy backend.
# Never -ffast-math, -Ofast or -march=native: the stream contract needs IEEE semantics and the
# wheels must run on any x86-64 / arm64 CPU (SIMD paths are chosen at run time).
GCC_FLAGS = ["-O3", "-ffp-contract=off", "-fno-strict-aliasing"]
MSVC_FLAGS = ["/O2", "/fp:precise"]


class BuildExt(build_ext):
    def build_extensions(self):
        flags = MSVC_FLAGS if self.compiler.compiler_type == "msvc" else GCC_FLAGS
        for ext in self.extensions:
            ext.extra_compile_args = flags + ext.extra_compile_args
        try:
            super().build_extensions()
        except Exception as exc:  # noqa: BLE001 - re-raised with the remedy
            sys.stderr.write(
                "\nfastinit: building the C extension failed (is a C compiler installed?).\n"
                "To install the pure-NumPy backend instead (same results, slower), set\n"
                "FASTINIT_PURE_PYTHON=1 when installing.\n\n"
            )
            raise exc


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


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
