"""Headless-browser checks of the HTML pages fastinit writes (dashboard, demo report): render
a page with Debian's chromium and measure how much of the screenshot holds text or drawing."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest


def _png_rows(path: Path) -> tuple[int, int, np.ndarray]:
    """Width, height and the filtered scanlines (one row per image row) of an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and color in (2, 6), f"unexpected PNG format: depth {depth}, colour type {color}"
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, -1)
    return width, height, rows


def _share_of_busy_rows(rows: np.ndarray) -> float:
    """Rows holding text or drawing: a plain row, whatever PNG filter it went through, is a
    few byte values repeated; a row crossing text or a chart has many."""
    return float(np.mean([len(np.unique(row[1:])) >= 16 for row in rows]))


def busy_shares_in_browser(page: Path, tmp_path: Path) -> dict[str, float]:
    """Screenshots (1280x2000) of ``page`` and of a blank page: the share of busy rows of each,
    keyed "page" and "blank" (the blank one shows the measure sees nothing on an empty page).
    Skips the test where no chromium is installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium): the headless-browser check cannot run")
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    shares = {}
    for name, html_file in (("page", page), ("blank", blank)):
        shot = tmp_path / f"{name}.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
                        f"--screenshot={shot}", "--window-size=1280,2000", html_file.as_uri()],
                       capture_output=True, timeout=180, check=False)
        assert shot.exists(), f"chromium wrote no screenshot of {html_file.name}"
        width, height, rows = _png_rows(shot)
        assert (width, height) == (1280, 2000)
        shares[name] = _share_of_busy_rows(rows)
    return shares
