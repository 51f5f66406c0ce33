"""Random (semi-)orthogonal matrices from fastinit's normal stream, for the Keras and JAX
adapters (fastinit.torch's ``orthogonal_`` does the same with torch's QR)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ._api import normal_
from ._params import finite


def orthogonal(rows: int, cols: int, gain: float = 1.0, *, float64: bool = False, **stream: Any) -> np.ndarray:
    r"""A (rows, cols) matrix with orthonormal columns (rows >= cols) or rows, times ``gain``.

    The Q factor of the QR decomposition of a Gaussian matrix of shape (max(rows, cols),
    min(rows, cols)) drawn by ``normal_`` (``stream``: its seed/stream/generator keywords), with
    the signs of R's diagonal folded in so that Q is Haar-distributed ("How to generate random
    matrices from the classical compact groups" - Mezzadri (2007)), transposed when rows < cols
    (Keras's and JAX's construction; "Exact solutions to the nonlinear dynamics of learning in
    deep linear neural networks" - Saxe, McClelland & Ganguli (2014)). float32 unless ``float64``.

    >>> q = orthogonal(5, 3, seed=0)
    >>> bool(np.allclose(q.T @ q, np.eye(3), atol=1e-5))
    True
    """
    gain = finite("gain", gain)
    work = np.float64 if float64 else np.float32
    gaussian = normal_(np.empty((max(rows, cols), min(rows, cols)), work), **stream)
    q, r = np.linalg.qr(gaussian)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return np.ascontiguousarray(q * work(gain), dtype=work)
