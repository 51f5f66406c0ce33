"""The README's first set-up command must run the installed package, not the source folder:
from the checkout, ``python -m fastinit`` imports ./fastinit (no compiled extension after a
plain ``pip install .``), while the ``fastinit`` console script imports the installed one."""
from __future__ import annotations

import re

from conftest import ROOT, needs_source_tree


@needs_source_tree
def test_first_readme_command_runs_the_console_script_not_the_source_folder():
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert block, "README.md must start with a bash block of the two set-up commands"
    first, second = block.group(1).strip().splitlines()
    assert 'pip install ".[bench]"' in first and first.endswith("&& fastinit bench"), first
    assert "python -m fastinit" not in first
    assert "pip install -e" in second and second.endswith("python -m pytest"), second
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'fastinit = "fastinit.__main__:main"' in pyproject  # the console script the command calls

