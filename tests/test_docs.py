"""The examples in the docstrings run and give what they show; every public function has a
docstring; the README's Python examples run."""
from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import fastinit as fi

from conftest import ROOT, needs_source_tree

MODULES = ["fastinit", "fastinit._api", "fastinit._call", "fastinit._fans", "fastinit._generator"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(backend, name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_public_function_documents_itself():
    for name in fi.__all__:
        obj = getattr(fi, name)
        if callable(obj) and not isinstance(obj, type):
            assert inspect.getdoc(obj), name


FAN_INITIALIZERS = ["glorot_uniform_", "glorot_normal_", "kaiming_uniform_", "kaiming_normal_",
                    "lecun_uniform_", "lecun_normal_", "variance_scaling_"]


@pytest.mark.parametrize("name", FAN_INITIALIZERS + ["uniform_", "normal_", "trunc_normal_"])
def test_initializer_docstrings_give_formula_paper_and_example(name):
    doc = inspect.getdoc(getattr(fi, name))
    assert ".. math::" in doc or ":math:" in doc
    assert ">>> " in doc
    if name in FAN_INITIALIZERS[:-1]:
        assert re.search(r'"[^"]+" - [A-Z][^()]+\(\d{4}\)', doc), "paper as '\"Title\" - Authors (year)'"


@needs_source_tree
def test_readme_python_examples_run(backend):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "README.md has no python examples"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_torch_adapter_docstring_examples():
    pytest.importorskip("torch", reason="torch is not installed (CI installs torch==2.13.0)")
    import torch

    # fastinit.torch is a package: the examples live in its submodules and run with the
    # package's public names in scope (as a user who did `from fastinit.torch import *`)
    package = importlib.import_module("fastinit.torch")
    globs = {**vars(package), "torch": torch, "Generator": fi.Generator}
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"fastinit.torch.{info.name}")
        for test in finder.find(module, globs=dict(globs)):
            runner.run(test)
    assert runner.tries > 0 and runner.failures == 0
