"""What the header generators in tools/ share: write a generated file, or check it is fresh."""
from __future__ import annotations

import pathlib
import sys


def write_or_check(path: pathlib.Path, text: str, argv: list[str], command: str) -> int:
    """With --check in argv: 0 if path holds text, else 1 with a message naming ``command``
    (the command that regenerates it). Without: write text to path and return 0."""
    if "--check" in argv:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    return 0
