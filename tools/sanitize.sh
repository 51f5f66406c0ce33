#!/usr/bin/env bash
# Build fastinit's C extension with AddressSanitizer + UndefinedBehaviorSanitizer in a scratch
# copy of the sources, and run the whole pytest suite against it (docs/hardening.md).
#
#   tools/sanitize.sh                 # whole suite
#   tools/sanitize.sh tests/test_errors.py -x   # arguments go to pytest
#
# PYTHON (default: python) is the interpreter with the test dependencies installed;
# CC (default: gcc) compiles. KEEP=1 keeps the scratch directory.
set -euo pipefail

main() {  # one function, so bash has read the whole script before any of it runs
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python}
export CC=${CC:-gcc}

# The sanitizer runtimes belong to the compiler that builds the extension.
libasan=$("$CC" -print-file-name=libasan.so)
libubsan=$("$CC" -print-file-name=libubsan.so)
for lib in "$libasan" "$libubsan"; do
  if [ ! -e "$lib" ]; then
    echo "sanitize.sh: $CC has no $(basename "$lib") (install its sanitizer runtime, e.g. libasan8)" >&2
    exit 2
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/fastinit-sanitize.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "scratch copy kept in $work"; else trap 'rm -rf "$work"' EXIT; fi

# A clean copy: no objects or extension from the normal build may be reused.
tar -C "$root" --exclude=.git --exclude=.venv --exclude=build --exclude=dist --exclude='*.egg-info' \
    --exclude='*.so' --exclude='*.o' --exclude=fastinit/_core.c --exclude=__pycache__ \
    --exclude=.pytest_cache --exclude=.hypothesis --exclude=.benchmarks -cf - . | tar -C "$work" -xf -

echo "+ FASTINIT_SANITIZE=1 $python setup.py build_ext --inplace   (in $work)"
start=$(date +%s)
(cd "$work" && FASTINIT_SANITIZE=1 "$python" setup.py -q build_ext --inplace >build.log 2>&1) \
  || { cat "$work/build.log" >&2; exit 1; }
so=$(ls "$work"/fastinit/_core*.so)
# ldd's output in a variable first: with pipefail, `ldd | grep -q` fails whenever grep exits at
# its match before ldd has written the rest (ldd then dies of SIGPIPE); it did in one CI run
libs=$(ldd "$so")
if ! grep -q libasan <<<"$libs"; then
  echo "sanitize.sh: $so is not linked against libasan" >&2
  exit 1
fi

# LD_PRELOAD: python itself is not instrumented, so the ASan runtime must be loaded first to
#   intercept malloc/free and the mem* functions for the whole process.
# PYTHONMALLOC=malloc: every Python object goes through malloc too, so ASan sees their bounds
#   (pymalloc's arenas would hide an overflow into a neighbouring object).
# detect_leaks=0: CPython deliberately leaves interned strings, static types and module state
#   allocated at exit; LeakSanitizer would report thousands of those, none of them fastinit's.
#   (Overflows, use-after-free and double frees are still fatal.)
# allocator_may_return_null=1: tests that allocate a huge array expect MemoryError, not an
#   ASan abort.
# halt_on_error=1 and -fno-sanitize-recover=all: the first finding ends the run non-zero.
export LD_PRELOAD="$libasan:$libubsan${LD_PRELOAD:+:$LD_PRELOAD}"
export PYTHONMALLOC=malloc
# log_path: pytest captures file descriptor 2 while a test runs, and a report written there
#   dies with the process; the reports go to files instead, printed at the end.
# abort_on_error=1: end by SIGABRT, so pytest's faulthandler prints the Python stack (which
#   test, which call) to the real stderr.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:log_path=$work/sanitizer-report"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$work/sanitizer-report"
export PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}"
# Programs that tests start and that are not fastinit run without the ASan runtime: the
# dashboard test's headless chromium does not finish within its 180 s timeout with libasan
# preloaded. A wrapper first on PATH drops LD_PRELOAD for it alone.
mkdir -p "$work/bin"
for prog in chromium chromium-browser; do
  real=$(command -v "$prog" || true)
  if [ -n "$real" ]; then
    printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$real" >"$work/bin/$prog"
    chmod +x "$work/bin/$prog"
  fi
done
export PATH="$work/bin:$PATH"
unset FASTINIT_BACKEND FASTINIT_ISA
cd "$work"

# The sanitizer must really be live in this process: a deliberate 1-byte overflow of a malloc'd
# buffer has to be caught, and fastinit has to import from the instrumented copy.
if ("$python" -c "import ctypes; b = ctypes.create_string_buffer(64); ctypes.memset(b, 0, 65)") \
     >/dev/null 2>"$work/probe.log"; then
  echo "sanitize.sh: ASan did not catch a deliberate overflow: the runtime is not active" >&2
  exit 1
fi
cat "$work"/sanitizer-report.* >>"$work/probe.log" 2>/dev/null || true
grep -q "heap-buffer-overflow" "$work/probe.log" \
  || { echo "sanitize.sh: the overflow probe failed for another reason:" >&2; cat "$work/probe.log" >&2; exit 1; }
rm -f "$work"/sanitizer-report.*  # the probe's own report
"$python" - "$work" <<'EOF'
import sys, fastinit, fastinit._core as core
assert fastinit.__file__.startswith(sys.argv[1]), fastinit.__file__
assert fastinit.backend().startswith("c-"), fastinit.backend()
print(f"fastinit {fastinit.backend()} from {core.__file__}")
EOF

echo "+ $python -m pytest -p no:cacheprovider ${*:--q}   (ASan+UBSan)"
set +e
"$python" -m pytest -p no:cacheprovider "${@:--q}"
status=$?
set -e
reports=$(ls "$work"/sanitizer-report.* 2>/dev/null || true)
if [ -n "$reports" ]; then
  echo "sanitize.sh: sanitizer reports:" >&2
  cat $reports >&2
  [ "$status" -ne 0 ] || status=1
fi
echo "sanitize.sh: build + tests took $(( $(date +%s) - start )) s, pytest exit status $status"
exit "$status"
}

main "$@"
