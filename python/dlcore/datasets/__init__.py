"""Small real datasets shipped inside the package, so demos and tests need no network.

``digits``: UCI "Optical Recognition of Handwritten Digits", 1,797 8x8 images with pixel
values 0..16 (E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, CC BY 4.0), as
carried in the scikit-learn 1.9.1 wheel.
"""
import csv
import gzip
import os

import numpy as np

_DATA = os.path.join(os.path.dirname(__file__), "data")


def _read_csv_gz(name):
    with gzip.open(os.path.join(_DATA, name), "rt") as f:
        return np.array([[float(v) for v in row] for row in csv.reader(f) if row], dtype=np.float64)


def load_digits(as_tensors=True):
    """The 8x8 digits: images of shape (1797, 64) scaled to [0, 1] and int64 labels (1797,).

    Returns dlcore tensors (float32, int64), or NumPy arrays with ``as_tensors=False``.
    """
    table = _read_csv_gz("digits.csv.gz")
    images = (table[:, :64] / 16.0).astype(np.float32)
    labels = table[:, 64].astype(np.int64)
    if not as_tensors:
        return images, labels
    from .. import from_numpy

    return from_numpy(images), from_numpy(labels)


def train_test_split(n, test_fraction=0.2, seed=0):
    """Shuffled index arrays (train, test) over n samples, reproducible from seed."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return order[n_test:], order[:n_test]
