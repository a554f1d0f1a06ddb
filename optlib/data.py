r"""Datasets: seeded, generated locally or read from an installed package, no network.

* ``load_digits`` -- the 1,797 real 8x8 handwritten digits that scikit-learn ships.
* ``make_digits`` -- a 55,000-example, 10-class problem grown from those digits by
  seeded augmentation (the size of MNIST's training split, which the lecture uses).
* ``linear_regression`` -- a regression problem with known true weights.
* ``train_val_test_split``, ``standardize`` -- splitting and scaling.

Features are float32; class labels are int64. Every function takes ``seed`` (an int
>= 0 or a ``numpy.random.Generator``); the same seed gives the same data. For small
2-D pictures (blobs, moons, circles) use ``sklearn.datasets``.
"""

import functools
import math
import numbers
from dataclasses import dataclass, field, replace

import numpy as np

from optlib import checks

__all__ = [
    "Dataset",
    "load_digits",
    "make_digits",
    "linear_regression",
    "split_indices",
    "train_val_test_split",
    "standardize",
]


@dataclass(repr=False)
class Dataset:
    """Training, validation and test arrays.

    Attributes
    ----------
    X_train, y_train, X_val, y_val, X_test, y_test : ``ndarray``
        Features (float32, one example per row) and targets (int64 labels or float32).
    info : dict
        How the data were made (e.g. which real images went where).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_features(self):
        """Number of features per example."""
        return self.X_train.shape[1]

    @property
    def n_classes(self):
        """Number of classes (``max label + 1``) for integer labels, else ``None``."""
        if self.y_train.dtype.kind not in "iu":
            return None
        return int(max(y.max(initial=-1) for y in (self.y_train, self.y_val, self.y_test)) + 1)

    def standardized(self):
        """A copy with features standardized by the training set's mean and std (see ``standardize``)."""
        X_train, X_val, X_test, mean, std = standardize(self.X_train, self.X_val, self.X_test)
        info = dict(self.info, mean=mean, std=std)
        return replace(self, X_train=X_train, X_val=X_val, X_test=X_test, info=info)

    def __repr__(self):
        parts = [f"{name}={getattr(self, name).shape}" for name in
                 ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")]
        return "Dataset(" + ", ".join(parts) + ")"


# ----------------------------------------------------------------- checks, splits


def _rng(seed):
    """``numpy.random.default_rng(seed)`` for an int >= 0 or a Generator; a clear error otherwise."""
    if isinstance(seed, np.random.Generator):
        return seed
    rule = "seed must be an integer >= 0 or a numpy.random.Generator"
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{rule}, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"{rule}, got {seed!r}")
    return np.random.default_rng(seed)


def _check_fractions(fractions):
    rule = "fractions must be 3 numbers >= 0 (train > 0) summing to 1"
    try:
        fractions = tuple(fractions)
    except TypeError:
        raise TypeError(f"{rule}, got {fractions!r}") from None
    if any(isinstance(f, bool) or not isinstance(f, numbers.Real) for f in fractions):
        raise TypeError(f"{rule}, got {fractions!r}")
    if (len(fractions) != 3 or any(not (math.isfinite(f) and f >= 0) for f in fractions)
            or abs(sum(fractions) - 1) > 1e-9 or fractions[0] == 0):
        raise ValueError(f"{rule}, got {fractions}")
    return fractions


def split_indices(n, fractions=(0.6, 0.2, 0.2), seed=0):
    """Shuffle ``range(n)`` and cut it into train, validation and test index arrays.

    Parameters
    ----------
    n : int
        Number of examples.
    fractions : tuple of float
        Train, validation and test fractions, each >= 0, summing to 1. The validation
        and test sizes are ``round(fraction * n)``; the training set gets the rest.
    seed : int or ``numpy.random.Generator``
        Source of randomness.

    Returns
    -------
    tuple of ``ndarray``
        ``(train, val, test)`` index arrays, disjoint, together ``range(n)``.
    """
    n = checks.integer("n", n, low=1)
    fractions = _check_fractions(fractions)
    n_val, n_test = round(fractions[1] * n), round(fractions[2] * n)
    if n_val + n_test >= n:
        raise ValueError(f"fractions {fractions} leave no training examples out of n={n}")
    perm = _rng(seed).permutation(n)
    return perm[n_val + n_test:], perm[:n_val], perm[n_val:n_val + n_test]


def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=0):
    """Split arrays at random into a ``Dataset``.

    Parameters
    ----------
    X : ``ndarray``
        Features, one example per row.
    y : ``ndarray``
        Targets, one per row of ``X``.
    fractions : tuple of float
        Train, validation and test fractions (see ``split_indices``).
    seed : int or ``numpy.random.Generator``
        Source of randomness.

    Returns
    -------
    Dataset
        With ``info["indices"]`` = the row indices of each part.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (examples, features), got shape {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"y must have one entry per row of X ({len(X)}), got {len(y)}")
    train, val, test = split_indices(len(X), fractions, seed)
    return Dataset(X[train], y[train], X[val], y[val], X[test], y[test],
                   info={"indices": {"train": train, "val": val, "test": test}})


def standardize(train, *others):
    r"""Standardize features with statistics of the training set only.

    .. math::

        x' = \frac{x - \mu}{\sigma}, \qquad \mu, \sigma = \text{mean and std of the training rows},

    where a feature with :math:`\sigma = 0` (e.g. an always-blank corner pixel) gets
    :math:`\sigma = 1` so it stays 0 instead of becoming NaN. Fitting on the training
    set only keeps the validation and test sets out of the preprocessing.

    Parameters
    ----------
    train : ``ndarray``
        Training features, one example per row.
    *others : ``ndarray``
        Further arrays (validation, test) transformed with the same statistics.

    Returns
    -------
    tuple
        ``(train', *others', mean, std)``, features float32.
    """
    train = np.asarray(train, dtype=np.float32)
    if train.ndim != 2 or len(train) == 0:
        raise ValueError(f"train must be a non-empty 2-D array, got shape {train.shape}")
    mean = train.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = train.std(axis=0, dtype=np.float64).astype(np.float32)
    std[std == 0] = 1
    out = []
    for i, a in enumerate((train,) + others):
        a = np.asarray(a, dtype=np.float32)
        if a.ndim != 2 or a.shape[1] != train.shape[1]:
            raise ValueError(f"array {i} must have shape (n, {train.shape[1]}), got {a.shape}")
        out.append((a - mean) / std)
    return (*out, mean, std)


# -------------------------------------------------------------------------- digits


@functools.lru_cache(maxsize=1)
def _raw_digits():
    # Imported here: scikit-learn is slow to import and only this function needs it.
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    images = (digits.data / 16.0).astype(np.float32)  # pixel values 0..16 -> [0, 1]
    images.setflags(write=False)
    labels = digits.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def _upsample_matrix(size, src=8):
    r"""Matrix :math:`K` with ``images_up = images @ K.T`` doing bilinear resizing src -> size."""
    centers = (np.arange(size) + 0.5) * (src / size) - 0.5  # output pixel centers in input coords
    centers = np.clip(centers, 0, src - 1)
    lo = np.minimum(np.floor(centers).astype(int), src - 2)
    frac = centers - lo
    U = np.zeros((size, src))
    U[np.arange(size), lo] = 1 - frac
    U[np.arange(size), lo + 1] += frac
    # Row-major flattening: pixel (r, c) of the output mixes rows and columns separably.
    return np.kron(U, U).astype(np.float32)


def _resize(images, size):
    return images if size == 8 else images @ _upsample_matrix(size).T


def load_digits(fractions=(0.6, 0.2, 0.2), size=8, seed=0):
    """The 1,797 real 8x8 handwritten digits shipped with scikit-learn, split at random.

    Pixels are scaled from 0..16 to [0, 1]. No download: the data come with the
    installed scikit-learn (the UCI "optical recognition of handwritten digits"
    set, Alpaydin and Kaynak 1998).

    Parameters
    ----------
    fractions : tuple of float
        Train, validation and test fractions (see ``split_indices``).
    size : int
        Side of the returned images: 8 (the original), or larger for a bilinear
        upsampling (e.g. 28 -> 784 features, MNIST's shape).
    seed : int or ``numpy.random.Generator``
        Seed of the split. ``make_digits`` with the same fractions and seed uses the
        very same validation and test images.

    Returns
    -------
    Dataset
        float32 features of length ``size**2``, int64 labels 0..9;
        ``info["indices"]`` = indices into the 1,797 images.
    """
    size = checks.integer("size", size, low=8)
    images, labels = _raw_digits()
    data = train_val_test_split(_resize(images, size), labels, fractions, seed)
    data.info["source"] = "sklearn.datasets.load_digits"
    return data


def _warp(sources, which, rng, max_shift, max_rotation, max_zoom, max_shear):
    r"""Random affine warps of 8x8 images, bilinear interpolation, zeros outside.

    Output pixel centre :math:`u` (relative to the image centre) samples the source at
    :math:`s = R_\phi\,S_h\,u / z + d`, with rotation :math:`R_\phi`, horizontal shear
    :math:`S_h`, zoom :math:`z` and shift :math:`d`, all drawn per image.
    """
    n = len(which)
    phi = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
    zoom = rng.uniform(1 - max_zoom, 1 + max_zoom, n)
    shear = rng.uniform(-max_shear, max_shear, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
    cos, sin = (np.cos(phi) / zoom).astype(np.float32), (np.sin(phi) / zoom).astype(np.float32)
    shear, shift = shear.astype(np.float32), shift.astype(np.float32)
    # A = R(phi) @ [[1, shear], [0, 1]] / zoom, one 2x2 matrix per image.
    a00, a01 = cos, cos * shear - sin
    a10, a11 = sin, sin * shear + cos
    grid = np.arange(8, dtype=np.float32) - 3.5
    u_col, u_row = np.meshgrid(grid, grid)            # row-major pixel order
    u_col, u_row = u_col.ravel(), u_row.ravel()
    col = a00[:, None] * u_col + a01[:, None] * u_row + shift[:, :1] + 3.5
    row = a10[:, None] * u_col + a11[:, None] * u_row + shift[:, 1:] + 3.5
    # Pad by one blank pixel; clipping into the padding makes far-away samples 0.
    padded = np.pad(sources.reshape(-1, 8, 8), ((0, 0), (1, 1), (1, 1))).reshape(len(sources), -1)
    col = np.clip(col + 1, 0, 9 - 1e-3)
    row = np.clip(row + 1, 0, 9 - 1e-3)
    c0, r0 = col.astype(np.intp), row.astype(np.intp)
    fc, fr = col - np.floor(col), row - np.floor(row)   # float32, like the images
    flat = padded.ravel()
    base = (which * 100)[:, None] + r0 * 10 + c0
    top = flat[base] * (1 - fc) + flat[base + 1] * fc
    bottom = flat[base + 10] * (1 - fc) + flat[base + 11] * fc
    return top * (1 - fr) + bottom * fr


def make_digits(n=55_000, size=8, fractions=(0.6, 0.2, 0.2), seed=0, max_shift=1.0,
                max_rotation=12.0, max_zoom=0.1, max_shear=0.15, thickness=0.4,
                contrast=0.2, noise=0.05):
    r"""A 10-class problem with ``n`` training examples grown from the real digits.

    Design: the 1,797 real images are split first (as in ``load_digits`` with the
    same ``fractions`` and ``seed``). The **validation and test sets are the real,
    untouched** held-out images, so scores measure generalization to real
    handwriting and no held-out image (nor a distortion of it) is ever trained on.
    The ``n`` training examples are distortions of the training images only, each
    used about equally often. Each example is

    .. math::

        x = \operatorname{clip}\!\Big(c\,\big(W_{A,d}\,x_s\big)^{\gamma} + \sigma\,\xi,\; 0,\; 1\Big),

    where :math:`x_s` is a real training image scaled to [0, 1];
    :math:`W_{A,d}` an affine warp with bilinear interpolation (rotation up to
    ``max_rotation`` degrees, zoom :math:`1 \pm` ``max_zoom``, shear up to
    ``max_shear``, shift up to ``max_shift`` pixels); :math:`\gamma = e^{u}`,
    :math:`u \sim \mathcal U(-` ``thickness`` :math:`,` ``thickness`` :math:`)`, a
    gamma curve that thickens (:math:`\gamma<1`) or thins (:math:`\gamma>1`) the
    grey stroke edges; :math:`c \sim \mathcal U(1 \pm` ``contrast`` :math:`)` an
    intensity change; and :math:`\xi` standard normal pixel noise of scale
    :math:`\sigma` = ``noise``. With ``size > 8`` the warped image is upsampled
    bilinearly before the noise is added (``size=28`` gives MNIST's 784 features);
    validation and test images are upsampled the same way, without distortion.

    Parameters
    ----------
    n : int
        Number of training examples (default 55,000, MNIST's training split).
    size : int
        Image side: 8, or larger for upsampled images.
    fractions : tuple of float
        How the 1,797 real images are split into training sources, validation, test.
    seed : int or ``numpy.random.Generator``
        One seed for the split and the distortions.
    max_shift, max_rotation, max_zoom, max_shear, thickness, contrast, noise : float
        Strength of each distortion (all >= 0; zero turns it off).

    Returns
    -------
    Dataset
        float32 features in [0, 1] of length ``size**2``, int64 labels 0..9.
        ``info["sources"]`` holds, for each training example, the index of its real
        image among the 1,797; ``info["indices"]`` the split of the real images.
    """
    n = checks.integer("n", n, low=1)
    size = checks.integer("size", size, low=8)
    for name, value in dict(max_shift=max_shift, max_rotation=max_rotation, max_shear=max_shear,
                            thickness=thickness, noise=noise).items():
        checks.real(name, value, low=0)
    for name, value in dict(max_zoom=max_zoom, contrast=contrast).items():
        checks.real(name, value, low=0, high=1, high_open=True)
    rng = _rng(seed)
    images, labels = _raw_digits()
    train_idx, val_idx, test_idx = split_indices(len(images), fractions, rng)
    # Balanced use of the sources: each appears floor(n/m) or ceil(n/m) times.
    which = rng.permutation(np.arange(n) % len(train_idx))
    X = _warp(images[train_idx], which, rng, max_shift, max_rotation, max_zoom, max_shear)
    gamma = np.exp(rng.uniform(-thickness, thickness, (n, 1))).astype(np.float32)
    c = rng.uniform(1 - contrast, 1 + contrast, (n, 1)).astype(np.float32)
    X = c * np.power(X, gamma)
    X = _resize(X, size)
    # Noise is drawn in chunks, in place: a (55,000 x 784) temporary would double
    # the memory (170 MB) for nothing.
    for start in range(0, n, 4096):
        chunk = X[start:start + 4096]
        if noise > 0:
            xi = rng.standard_normal(chunk.shape, dtype=np.float32)
            xi *= noise
            chunk += xi
        np.clip(chunk, 0, 1, out=chunk)
    return Dataset(
        X, labels[train_idx][which],
        _resize(images[val_idx], size), labels[val_idx].copy(),
        _resize(images[test_idx], size), labels[test_idx].copy(),
        info={"source": "augmented sklearn.datasets.load_digits",
              "sources": train_idx[which],
              "indices": {"train": train_idx, "val": val_idx, "test": test_idx}},
    )


def linear_regression(n=1000, d=10, noise=0.1, seed=0):
    r"""A linear regression problem with known true weights.

    .. math::

        y = X w^\star + b^\star + \sigma\,\epsilon,\qquad
        X_{ij}, w^\star_j, b^\star, \epsilon_i \sim \mathcal N(0, 1).

    Its least-squares solution is available in closed form
    (``np.linalg.lstsq`` on ``[X, 1]``), which makes it a check for training loops.

    Parameters
    ----------
    n : int
        Number of examples.
    d : int
        Number of features.
    noise : float
        Noise scale :math:`\sigma \ge 0`.
    seed : int or ``numpy.random.Generator``
        Source of randomness.

    Returns
    -------
    X : ``ndarray``
        float32, shape ``(n, d)``.
    y : ``ndarray``
        float32, shape ``(n, 1)`` (the shape of a ``Linear(d, 1)`` output).
    w_true : ``ndarray``
        float32, shape ``(d,)``.
    b_true : float
        The true intercept.
    """
    n = checks.integer("n", n, low=1)
    d = checks.integer("d", d, low=1)
    checks.real("noise", noise, low=0)
    rng = _rng(seed)
    w = rng.standard_normal(d)
    b = float(rng.standard_normal())
    X = rng.standard_normal((n, d))
    y = X @ w + b + noise * rng.standard_normal(n)
    return X.astype(np.float32), y[:, None].astype(np.float32), w.astype(np.float32), b
