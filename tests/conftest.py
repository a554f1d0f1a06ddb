"""Shared test data: small seeded problems that several test files train on."""

import numpy as np
import pytest


def _blobs(n=300, centers=3, std=0.6, seed=0):
    r"""``centers`` Gaussian blobs in 2-D around points on a circle of radius 2.

    :math:`x = \mu_y + \sigma\xi`, classes balanced; float32 features, int64 labels.
    (Small and fast to fit; not a library function: ``sklearn.datasets.make_blobs``
    is the one to use outside the tests.)
    """
    angle = 2 * np.pi * np.arange(centers) / centers
    mu = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % centers).astype(np.int64)
    X = mu[y] + std * rng.standard_normal((n, 2))
    return X.astype(np.float32), y


@pytest.fixture(scope="session")
def make_blobs():
    """``make_blobs(n=300, centers=3, std=0.6, seed=0) -> (X, y)``: a small 2-D classification set."""
    return _blobs


def pytest_terminal_summary(terminalreporter):
    """After every run: per chapter, its hidden checks and glued numbers (tests/claims.py)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent))
    from claims import claims
    rows = []
    for path in sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.ipynb")):
        c = claims(path)
        rows.append(f"  {path.stem:32s} {c.check_cells:4d} check cells {c.asserts:5d} asserts "
                    f"{len(c.glued):4d} glued numbers {len(c.unchecked):3d} unchecked")
    terminalreporter.write_sep("-", "claims and their checks, per chapter")
    for row in rows:
        terminalreporter.write_line(row)
