"""The contract constants have one source, fastinit/_contract.py: the generated C header is
fresh, the compiled extension was built from it, the Python modules use it, and no copy of
a value is kept by hand anywhere else in the sources."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from fastinit import _contract, _numpy, _params

from conftest import ROOT, needs_source_tree

GENERATOR = ROOT / "tools" / "gen_contract_header.py"


@needs_source_tree
def test_generated_contract_header_matches_the_source():
    out = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@needs_source_tree
def test_the_check_fails_when_a_constant_changes(tmp_path):
    # the same generator on a copy whose source differs in one value must call the header stale
    (tmp_path / "tools").mkdir()
    (tmp_path / "fastinit").mkdir()
    (tmp_path / "csrc").mkdir()
    shutil.copy(GENERATOR, tmp_path / "tools")
    shutil.copy(ROOT / "tools" / "_generated.py", tmp_path / "tools")
    shutil.copy(ROOT / "csrc" / "fi_contract.h", tmp_path / "csrc")
    source = (ROOT / "fastinit" / "_contract.py").read_text()
    changed = source.replace("MAX_THREADS = 256", "MAX_THREADS = 512")
    assert changed != source
    (tmp_path / "fastinit" / "_contract.py").write_text(changed)
    check = [sys.executable, str(tmp_path / "tools" / GENERATOR.name), "--check"]
    out = subprocess.run(check, capture_output=True, text=True)
    assert out.returncode == 1 and "stale" in out.stderr
    subprocess.run(check[:-1], check=True)  # regenerating makes it fresh again
    assert subprocess.run(check, capture_output=True).returncode == 0
    assert "#define FI_MAX_THREADS 512" in (tmp_path / "csrc" / "fi_contract.h").read_text()


def test_the_compiled_extension_uses_the_same_constants(need_c):
    from fastinit import _core

    c = _core.COMPILED_CONTRACT
    assert c["DTYPES"] == tuple(range(len(_contract.DTYPES))) + (len(_contract.DTYPES),)
    assert c["ITEMSIZE"] == tuple(_contract.ITEMSIZE[code] for code in range(len(_contract.DTYPES)))
    assert c["DISTRIBUTIONS"] == tuple(range(len(_contract.DISTRIBUTIONS))) + (len(_contract.DISTRIBUTIONS),)
    assert c["PHILOX"] == (_contract.PHILOX_M0, _contract.PHILOX_M1, _contract.PHILOX_W0, _contract.PHILOX_W1,
                           _contract.PHILOX_ROUNDS)
    assert c["PARALLEL_MIN_BYTES"] == _contract.PARALLEL_MIN_BYTES
    assert c["MAX_THREADS"] == _contract.MAX_THREADS


def test_python_modules_take_the_constants_from_the_source():
    assert (_params.FLOAT32, _params.FLOAT64, _params.BFLOAT16, _params.FLOAT16, _params.UINT32, _params.UINT64) == (
        _contract.FLOAT32, _contract.FLOAT64, _contract.BFLOAT16, _contract.FLOAT16, _contract.UINT32,
        _contract.UINT64)
    assert _params.ITEMSIZE is _contract.ITEMSIZE
    for name in ("float32", "float64", "float16", "uint32", "uint64"):
        code = [c for c, n in _contract.DTYPE_NAMES.items() if n == name][0]
        assert _contract.ITEMSIZE[code] == np.dtype(name).itemsize
    assert (int(_numpy._M0), int(_numpy._M1), _numpy._W0, _numpy._W1) == (
        _contract.PHILOX_M0, _contract.PHILOX_M1, _contract.PHILOX_W0, _contract.PHILOX_W1)


# Each value as it would be written if copied by hand (hex words, thread limits), and the files
# allowed to hold it: the source, its generator and the generated header.
_COPIES = {
    "Philox multiplier or Weyl constant": re.compile(r"0x(?:D2511F53|CD9E8D57|9E3779B9|BB67AE85)\b", re.I),
    "thread-pool constant defined": re.compile(r"#\s*define\s+FI_(?:MAX_THREADS|PARALLEL_MIN_BYTES)\b"),
    "dtype enum defined": re.compile(r"FI_FLOAT32\s*=\s*0|enum\s+fi_dtype\s*\{|enum\s+fi_dist\s*\{"),
    "dtype codes unpacked from range(6)": re.compile(r"FLOAT32\s*,\s*FLOAT64.*=\s*range\(6\)"),
    "bytes per element kept as a list": re.compile(r"\[\s*4\s*,\s*8\s*,\s*2\s*,\s*2\s*,\s*4\s*,\s*8\s*\]"),
}
_ALLOWED = {"fastinit/_contract.py", "csrc/fi_contract.h", "tools/gen_contract_header.py"}


@needs_source_tree
def test_no_hand_kept_copy_of_a_contract_constant():
    sources = [p for pattern in ("csrc/*.c", "csrc/*.h", "fastinit/*.py", "fastinit/*.pyx", "fastinit/torch/*.py",
                                 "tests/c/*.c", "tools/*.py")
               for p in ROOT.glob(pattern)]
    assert len(sources) > 20
    found = []
    for path in sources:
        rel = path.relative_to(ROOT).as_posix()
        if rel in _ALLOWED:
            continue
        text = path.read_text(errors="replace")
        for what, pattern in _COPIES.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{rel}:{line}: {what}: {match.group(0)!r}")
    assert not found, "use fastinit/_contract.py (Python) or fi_contract.h (C):\n" + "\n".join(found)


def test_the_copy_detector_sees_a_copy():
    # the patterns above must match the forms a copy would take
    assert _COPIES["Philox multiplier or Weyl constant"].search("const uint32_t m = 0xd2511f53;")
    assert _COPIES["thread-pool constant defined"].search("#define FI_MAX_THREADS 256")
    assert _COPIES["dtype enum defined"].search("typedef enum fi_dtype {")
    assert _COPIES["dtype codes unpacked from range(6)"].search("FLOAT32, FLOAT64, BFLOAT16 = range(6)")
    assert _COPIES["bytes per element kept as a list"].search("ITEMSIZE[6] = [4, 8, 2, 2, 4, 8]")
    with pytest.raises(AssertionError):
        assert _COPIES["Philox multiplier or Weyl constant"].search("FI_PHILOX_M0")
