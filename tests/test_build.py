"""Build and packaging: the C core as a plain C program, the generated header, backend and
ISA selection by environment variable, the import-time fallback, and the pure-Python build."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

import fastinit as fi

from conftest import ROOT, env_without_sanitizer_preload, needs_source_tree, running_in_ci

CC = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler found on PATH")
CSRC = sorted(str(p) for p in (ROOT / "csrc").glob("*.c"))
STRICT = ["-std=c99", "-pthread", "-ffp-contract=off", "-Wall", "-Wextra", "-Wpedantic", "-Wdouble-promotion",
          "-Wshadow", "-Werror", f"-I{ROOT / 'csrc'}"]


def _run_c_driver(tmp_path, extra_flags):
    exe = tmp_path / "test_vectors"
    subprocess.run([CC, *STRICT, *extra_flags, str(ROOT / "tests/c/test_vectors.c"), *CSRC, "-lm", "-lpthread", "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe), str(ROOT / "tests/vectors.txt")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert int(last.split()[0]) > 1000 and last.endswith(" 0 failed")
    return out.stdout


@needs_source_tree
@needs_cc
def test_c_core_builds_warning_free_and_passes_its_vectors(tmp_path):
    _run_c_driver(tmp_path, ["-O3"])


@needs_source_tree
@needs_cc
def test_build_flags_undo_fast_math_from_the_environment(tmp_path):
    # setup.py's flags come after CFLAGS from the environment: they must restore IEEE rounding
    import runpy

    flags = runpy.run_path(str(ROOT / "setup.py"), run_name="fastinit_setup_flags")["GCC_FLAGS"]
    assert "-ffp-contract=off" in flags and not any("fast-math" in f and "no" not in f for f in flags)
    _run_c_driver(tmp_path, ["-ffast-math", *flags])


@needs_source_tree
@needs_cc
def test_c_core_without_simd_builds_and_passes(tmp_path):
    # what a compiler without the vector extensions, or another architecture, builds
    _run_c_driver(tmp_path, ["-O3", "-DFI_NO_SIMD"])


@needs_source_tree
@needs_cc
def test_c_core_is_clean_under_asan_and_ubsan(tmp_path):
    probe = subprocess.run([CC, "-fsanitize=address,undefined", "-x", "c", "-", "-o", str(tmp_path / "probe")],
                           input="int main(void){return 0;}", capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"{CC} cannot build with -fsanitize=address,undefined here")
    _run_c_driver(tmp_path, ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"])


# Other compilers, C libraries and architectures than the host's gcc, each skipped when its
# toolchain is missing (.ci/run installs them from Debian): (name, compiler, flags, how to
# run the program, or None when the emulator is missing). What the wheels are built with:
# clang on macOS, aarch64 on Linux and macOS, musl for musllinux, Win32 threads on Windows.
# The SIMD builds for aarch64 and Windows run once per level instead: see
# test_emulated_build_has_its_simd_kernels_and_passes_with_each_isa_forced below.
def _toolchains():
    wine = shutil.which("wine")
    return [
        ("clang", "clang", ["-pthread"], []),
        ("clang-no-simd", "clang", ["-pthread", "-DFI_NO_SIMD"], []),
        ("musl", "musl-gcc", ["-pthread"], []),
        ("win64-no-simd-wine", "x86_64-w64-mingw32-gcc", ["-DFI_NO_SIMD"], [wine] if wine else None),
    ]


@needs_source_tree
@pytest.mark.parametrize("name", [t[0] for t in _toolchains()])
def test_c_core_builds_and_passes_with_other_toolchains(tmp_path, request, name):
    (_, cc, flags, runner), = [t for t in _toolchains() if t[0] == name]
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (apt-get install clang / musl-tools / gcc-aarch64-linux-gnu / gcc-mingw-w64-x86-64)")
    if runner is None:
        pytest.skip(f"no emulator to run the {name} build (apt-get install qemu-user / wine64)")
    exe = tmp_path / ("test_vectors.exe" if "win" in name else "test_vectors")
    strict = [f for f in STRICT if f != "-pthread"]
    build = subprocess.run([cc, *strict, *flags, "-O2", str(ROOT / "tests/c/test_vectors.c"), *CSRC, "-lm", "-o", str(exe)],
                           capture_output=True, text=True, env=env_without_sanitizer_preload())
    assert build.returncode == 0, build.stderr[-3000:]
    prefix = request.getfixturevalue("wine_prefix") if "win" in name else tmp_path
    env = env_without_sanitizer_preload(WINEDEBUG="-all", WINEPREFIX=str(prefix))
    out = subprocess.run([*runner, str(exe), str(ROOT / "tests/vectors.txt")], capture_output=True, text=True,
                         env=env, timeout=600)
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert out.returncode == 0 and last.endswith(" 0 failed"), out.stdout[-2000:] + out.stderr[-2000:]
    assert int(last.split()[0]) > 1000  # the frozen vectors, the error checks and the thread check ran


# Cross builds with their SIMD kernels, run under an emulator once per level, forced with
# FASTINIT_ISA: (name, the levels they must have compiled in, the toolchain's programs).
EMULATED_BUILDS = {
    "aarch64-neon-qemu": (("scalar", "neon"), ["aarch64-linux-gnu-gcc", "qemu-aarch64"]),
    "win64-mingw-wine": (("scalar", "avx2", "avx512"), ["x86_64-w64-mingw32-gcc", "wine"]),
    # cpuid_x86.c and the x86 kernels compiled by clang-cl (clang in cl mode, MSVC target:
    # _MSC_VER, MSVC intrinsics, setup.py's clang-cl options), the rest by mingw-w64, linked together
    "win64-clang-cl-wine": (("scalar", "avx2", "avx512"),
                            ["clang", "x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-objdump", "wine"]),
}
CLANG_CL_FILES = ("cpuid_x86.c", "kernels_avx2.c", "kernels_avx512.c")


def _host_x86_levels():
    """The x86 levels this CPU runs, from the kernel's flags (what cpuid_x86.c checks)."""
    try:
        flags = set(next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split())
    except (OSError, StopIteration):
        return {"scalar"}
    levels = {"scalar"}
    if {"avx", "avx2", "f16c", "osxsave"} <= flags or {"avx", "avx2", "f16c", "xsave"} <= flags:
        levels.add("avx2")
        if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
            levels.add("avx512")
    return levels


@pytest.fixture(scope="session")
def wine_prefix(tmp_path_factory):
    return tmp_path_factory.mktemp("wine")  # one prefix for every wine run (creating one takes ~10 s)


def _clang_cl_objects(tmp_path):
    import runpy

    flags = runpy.run_path(str(ROOT / "setup.py"), run_name="fastinit_setup_flags")["CLANG_CL_FLAGS"]
    # no MSVC headers here: mingw-w64's, after clang's own (intrin.h, immintrin.h); they parse
    # only with __GNUC__ defined, which none of csrc's choices looks at under clang
    # (fi_simd_available.h tests __clang__ first, cpuid_x86.c tests _MSC_VER first)
    mingw_headers = ["/D__GNUC__=12", "/D__GNUC_MINOR__=0", "/clang:-ffreestanding",
                     "/clang:-idirafter/usr/share/mingw-w64/include"]
    objects = []
    for name in CLANG_CL_FILES:
        obj = tmp_path / (name[:-2] + ".obj")
        # /GS-: clang-cl's stack cookies need the MSVC runtime's __security_cookie, which
        # mingw-w64 lacks; -mno-stack-arg-probe: frames over a page (the AVX-512 truncated
        # normal) call the MSVC runtime's __chkstk, which mingw-w64 lacks too (it has
        # ___chkstk_ms). A real clang-cl build keeps setuptools' defaults, /GS and probes included.
        build = subprocess.run(["clang", "--driver-mode=cl", "--target=x86_64-pc-windows-msvc", "/c", "/nologo", "/W4",
                                "/WX", "/GS-", "/clang:-mno-stack-arg-probe", *flags, *mingw_headers, f"-I{ROOT / 'csrc'}", f"/Fo{obj}", "--",
                                str(ROOT / "csrc" / name)], capture_output=True, text=True)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        objects.append(obj)
    # contraction into FMA would change the AVX-512 results (which this machine may not be
    # able to run): there must be no fused multiply-add instruction in the objects
    disasm = subprocess.run(["x86_64-w64-mingw32-objdump", "-d", *map(str, objects)],
                            capture_output=True, text=True, check=True).stdout
    fused = [line for line in disasm.splitlines() if "\tvfmadd" in line or "\tvfmsub" in line or "\tvfnm" in line]
    assert not fused, f"{len(fused)} FMA instructions in the clang-cl objects, e.g. {fused[:3]}"
    return objects


def _build_emulated(name, tmp_path):
    strict = [f for f in STRICT if f != "-pthread"]
    driver = str(ROOT / "tests/c/test_vectors.c")
    env = env_without_sanitizer_preload()
    if name == "aarch64-neon-qemu":
        exe = tmp_path / "test_vectors"
        cmd = ["aarch64-linux-gnu-gcc", *strict, "-pthread", "-O2", driver, *CSRC, "-lm", "-o", str(exe)]
        runner = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]
    else:
        exe = tmp_path / "test_vectors.exe"
        sources = CSRC
        extra = []
        if name == "win64-clang-cl-wine":
            sources = [c for c in CSRC if os.path.basename(c) not in CLANG_CL_FILES]
            extra = [str(o) for o in _clang_cl_objects(tmp_path)]
        cmd = ["x86_64-w64-mingw32-gcc", *strict, "-O2", driver, *sources, *extra, "-lm", "-o", str(exe)]
        runner = ["wine"]
    build = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert build.returncode == 0, build.stderr[-3000:]
    return runner, exe


@needs_source_tree
@pytest.mark.parametrize("name", sorted(EMULATED_BUILDS))
def test_emulated_build_has_its_simd_kernels_and_passes_with_each_isa_forced(tmp_path, request, name):
    levels, tools = EMULATED_BUILDS[name]
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install clang gcc-aarch64-linux-gnu "
                    "libc6-dev-arm64-cross qemu-user gcc-mingw-w64-x86-64 wine64)")
    runner, exe = _build_emulated(name, tmp_path)
    runs_here = {"scalar", "neon"} if "aarch64" in name else _host_x86_levels()  # qemu emulates NEON
    prefix = request.getfixturevalue("wine_prefix") if "win" in name else tmp_path
    env = env_without_sanitizer_preload(WINEDEBUG="-all", WINEPREFIX=str(prefix))
    for level in levels:
        out = subprocess.run([*runner, str(exe), str(ROOT / "tests/vectors.txt")], capture_output=True, text=True,
                             env=dict(env, FASTINIT_ISA=level), timeout=300)
        if level not in runs_here:  # a clear refusal, not a crash or a silent fallback
            assert out.returncode == 3 and f"FASTINIT_ISA={level}: not available" in out.stderr, out.stderr[-2000:]
            continue
        lines = out.stdout.strip().splitlines()
        assert out.returncode == 0 and lines and lines[-1].endswith(" 0 failed"), out.stdout[-2000:] + out.stderr[-2000:]
        # the first line: the level in use and the levels compiled in (a build without its SIMD kernels fails here)
        assert lines[0] == f"isa {level} compiled {' '.join(levels)}", lines[0]
        assert int(lines[-1].split()[0]) > 1000  # the frozen vectors, the error checks and the thread check ran


@needs_source_tree
def test_generated_math_header_matches_the_spec():
    out = subprocess.run([sys.executable, str(ROOT / "tools/gen_mathspec_header.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@needs_source_tree
def test_version_in_pyproject_matches_the_package():
    # a release bumps both (README "Releasing"); a mismatch would publish a wrong __version__
    import re

    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert match and match.group(1) == fi.__version__


def test_ci_runs_the_c_extension():
    if not running_in_ci() or os.environ.get("FASTINIT_BACKEND"):
        pytest.skip("only CI requires the compiled extension (set CI=1 to check it here)")
    assert fi.backend().startswith("c-")


# The SIMD kernels each architecture's builds must have (docs/wheels.md), by platform.machine()
SIMD_BY_MACHINE = {"x86_64": ("avx2", "avx512"), "amd64": ("avx2", "avx512"),
                   "aarch64": ("neon",), "arm64": ("neon",)}


def _compiler_builds_simd(cc):
    """Whether cc is GCC >= 12 or clang on x86-64 / AArch64, from its predefined macros (not
    from fi_simd_available.h, whose verdict is what the test checks)."""
    if shutil.which(cc.split()[0]) is None:
        return False
    out = subprocess.run([*cc.split(), "-dM", "-E", "-x", "c", os.devnull], capture_output=True, text=True)
    macros = dict(line.split(" ", 2)[1:] for line in out.stdout.splitlines() if line.count(" ") >= 2)
    arch = "__x86_64__" in macros or "__aarch64__" in macros
    return arch and ("__clang__" in macros or int(macros.get("__GNUC__", "0")) >= 12)


def test_the_extension_has_the_simd_kernels_of_its_architecture(need_c):
    # a wheel (cibuildwheel's test step sets FASTINIT_EXPECT_SIMD=1) or an in-place build by a
    # compiler that can build them must have every SIMD level of its architecture compiled in
    import platform
    import sysconfig

    from fastinit import _core

    expected = SIMD_BY_MACHINE.get(platform.machine().lower(), ())
    in_place = os.path.dirname(os.path.abspath(_core.__file__)) == str(ROOT / "fastinit")
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    if os.environ.get("FASTINIT_EXPECT_SIMD") == "1":
        why = "FASTINIT_EXPECT_SIMD=1"
    elif in_place and sys.platform != "win32" and _compiler_builds_simd(cc):
        why = f"built in place by {cc!r}, which builds them"
    else:
        pytest.skip(f"neither FASTINIT_EXPECT_SIMD=1 nor an in-place build by GCC >= 12 / clang ({cc!r})")
    compiled = _core.compiled_isas()
    assert set(_core.available_isas()) <= set(compiled) <= set(_core.ISAS)
    missing = [level for level in expected if level not in compiled]
    assert not missing, f"{why}, but this build has no {', '.join(missing)} kernels (compiled in: {compiled})"


@needs_source_tree
def test_setup_points_setuptools_msvc_compiler_at_clang_cl(tmp_path):
    import runpy

    setup = runpy.run_path(str(ROOT / "setup.py"), run_name="fastinit_setup_flags")
    assert "/clang:-ffp-contract=off" in setup["CLANG_CL_FLAGS"]  # clang-cl contracts into FMA by default

    class MSVCLike:  # setuptools' MSVC compiler finds cl.exe in initialize(), called once
        initialized = False

        def initialize(self):
            self.initialized, self.cc = True, "cl.exe"

    fake = tmp_path / "clang-cl"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    compiler = MSVCLike()
    setup["use_clang_cl"](compiler, str(fake))
    assert compiler.initialized and compiler.cc == str(fake)
    with pytest.raises(RuntimeError, match="FASTINIT_CLANG_CL"):
        setup["use_clang_cl"](MSVCLike(), str(tmp_path / "no-such-clang-cl"))


def _backend_in_subprocess(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("FASTINIT_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", "import fastinit; print(fastinit.backend())"],
                          capture_output=True, text=True, env=full, cwd=ROOT)


def test_fastinit_backend_numpy_forces_the_numpy_backend():
    out = _backend_in_subprocess(FASTINIT_BACKEND="numpy")
    assert out.returncode == 0 and out.stdout.strip() == "numpy"


def test_fastinit_backend_c_picks_the_best_isa_and_fastinit_isa_forces_one(need_c):
    from fastinit import _core

    levels = _core.available_isas()
    assert levels[0] == "scalar"
    assert _backend_in_subprocess(FASTINIT_BACKEND="c").stdout.strip() == f"c-{levels[-1]}"
    for level in levels:
        assert _backend_in_subprocess(FASTINIT_ISA=level).stdout.strip() == f"c-{level}"


def test_unknown_backend_or_isa_is_an_error(need_c):
    out = _backend_in_subprocess(FASTINIT_BACKEND="fortran")
    assert out.returncode != 0 and "FASTINIT_BACKEND" in out.stderr
    out = _backend_in_subprocess(FASTINIT_ISA="avx9000")
    assert out.returncode != 0 and "FASTINIT_ISA='avx9000': unknown instruction set" in out.stderr


def test_fastinit_isa_names_why_a_known_level_cannot_run(need_c):
    from fastinit import _core

    for level in _core.ISAS:
        if level in _core.available_isas():
            continue
        out = _backend_in_subprocess(FASTINIT_ISA=level)
        why = "this CPU cannot run it" if level in _core.compiled_isas() else f"this build of fastinit has no {level} kernels"
        assert out.returncode != 0 and f"FASTINIT_ISA={level!r}: {why}" in out.stderr, out.stderr[-1000:]


_BLOCK_CORE = """
import importlib.abc, sys, warnings
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "fastinit._core":
            raise ImportError("simulated: extension not built")
sys.meta_path.insert(0, Block())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import fastinit, numpy
    fastinit.normal_(numpy.empty(4), seed=0)
print(fastinit.backend(), len(caught), caught[0].category.__name__ if caught else "-")
"""


def test_missing_extension_falls_back_to_numpy_with_one_warning():
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTINIT_")}
    out = subprocess.run([sys.executable, "-c", _BLOCK_CORE], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["numpy", "1", "RuntimeWarning"]


def _wheel(tmp_path, env_extra):
    """Build a wheel from a clean copy of the sources (no build/ objects left from earlier
    builds, which setuptools would reuse without calling the compiler)."""
    pytest.importorskip("setuptools")
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "*.so", "_core.c", "__pycache__", ".pytest_cache"))
    env = dict(os.environ, **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, env=env,
    )


@needs_source_tree
def test_pure_python_build_has_no_extension_and_works(tmp_path):
    out = _wheel(tmp_path, {"FASTINIT_PURE_PYTHON": "1"})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    (wheel,) = tmp_path.glob("fastinit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "fastinit/_numpy.py" in names and "fastinit/py.typed" in names
    assert not any(n.endswith((".so", ".pyd")) for n in names)
    # no tests, sources or build leftovers in a wheel (tools/release_check.sh checks the compiled one)
    assert not any(n.startswith(("tests/", "csrc/", "build/")) or n.endswith((".c", ".h", ".pyx", ".o")) for n in names)


@needs_source_tree
@needs_cc
def test_build_without_a_working_compiler_fails_loudly(tmp_path):
    pytest.importorskip("Cython")
    out = _wheel(tmp_path, {"CC": str(tmp_path / "no-such-cc"), "FASTINIT_PURE_PYTHON": ""})
    assert out.returncode != 0
    assert "FASTINIT_PURE_PYTHON=1" in out.stdout + out.stderr
