"""Build the C extension fastinit._core (Cython over csrc/).

FASTINIT_PURE_PYTHON=1 skips the extension: fastinit then runs on its pure-NumPy backend
(same bits, slower). Without that variable a failing compile is an error, never a silent
fallback. FASTINIT_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer, for
tools/sanitize.sh only (the result needs libasan preloaded; see docs/hardening.md).
"""
import os
import platform
import shutil
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
# Windows: setuptools drives MSVC's cl.exe, which has no GCC vector extensions, so such a build
# has the scalar kernels only (docs/wheels.md). FASTINIT_CLANG_CL=clang-cl (a name on PATH or
# a path to clang-cl.exe) makes setuptools run clang-cl in cl.exe's place: the same options,
# link.exe and C runtime, and the AVX2 and AVX-512 kernels are built too. cibuildwheel sets it
# for the Windows wheels ([tool.cibuildwheel.windows] in pyproject.toml); by hand, from a
# Visual Studio developer prompt with LLVM installed:
#   set FASTINIT_CLANG_CL=clang-cl && pip install .
# clang-cl contracts a * b + c into FMA by default, /fp:precise included (-ffp-contract=on;
# measured here: 186 FMA instructions in the AVX-512 kernels), hence the /clang: option.
# The variable is ignored by the other compilers.
CLANG_CL_FLAGS = MSVC_FLAGS + ["/clang:-ffp-contract=off", "/clang:-fno-fast-math"]
# FASTINIT_SANITIZE=1 (GCC/clang only): the same flags plus ASan and UBSan, with debug info and
# frame pointers for readable reports, and every UBSan finding fatal (not just printed).
# float-cast-overflow is not part of GCC's "undefined" set: a double too large for the integer
# it is cast to is undefined behaviour in C (it hid a bug in Phi's exp until fuzzing found it).
SANITIZE_FLAGS = ["-fsanitize=address,undefined,float-cast-overflow", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]


def use_clang_cl(compiler, clang_cl):
    """Make setuptools' MSVC compiler object run clang_cl instead of cl.exe (it finds cl.exe
    in initialize(), which compile() would otherwise call first)."""
    exe = shutil.which(clang_cl)
    if exe is None:
        raise RuntimeError(f"FASTINIT_CLANG_CL={clang_cl!r}: no such program (install LLVM, or unset it)")
    if not getattr(compiler, "initialized", False):
        compiler.initialize()
    compiler.cc = exe


class BuildExt(build_ext):
    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        flags = MSVC_FLAGS if msvc else GCC_FLAGS
        clang_cl = os.environ.get("FASTINIT_CLANG_CL", "").strip()
        if msvc and clang_cl:
            use_clang_cl(self.compiler, clang_cl)
            flags = CLANG_CL_FLAGS
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
        # the headers too: the SIMD kernels are written in fi_simd_template.h, and without this
        # a rebuild after editing it kept the old objects (the .c files had not changed)
        depends=sorted(glob("csrc/*.h")),
        include_dirs=["csrc"],
        libraries=[] if sys.platform == "win32" else ["m", "pthread"],
    )
    return cythonize([ext], compiler_directives={"language_level": "3"})


if __name__ == "__main__":  # setuptools runs this file as __main__; tests read GCC_FLAGS
    setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
