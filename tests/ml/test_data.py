import csv
import zipfile

import cv2
import numpy as np
import pytest

from emotion.training.data import DatasetError, load_fer2013
from emotion.ml.labels import EMOTIONS


@pytest.fixture(scope="module")
def sample(fer_splits):
    """Three real faces of each split, with their labels."""
    return {s: (x[:3], y[:3]) for s, (x, y) in fer_splits.items()}


def _write_folder(root, sample):
    for split, (xs, ys) in sample.items():
        top = "train" if split == "Training" else "test"
        for i, (x, y) in enumerate(zip(xs, ys)):
            d = root / top / EMOTIONS[y]
            d.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(d / f"{split}_{i}.png"), x)   # PNG: lossless, so pixels can be compared


def _check(loaded, sample):
    assert set(loaded) == set(sample)
    for split, (xs, ys) in sample.items():
        lx, ly = loaded[split]
        assert lx.dtype == np.uint8 and lx.shape == (3, 48, 48)
        order = np.lexsort((lx.reshape(3, -1).sum(1), ly))
        ref = np.lexsort((xs.reshape(3, -1).sum(1), ys))
        np.testing.assert_array_equal(ly[order], ys[ref])
        np.testing.assert_array_equal(lx[order], xs[ref])


def test_real_zip_has_the_documented_split_sizes(fer_splits):
    assert {s: len(y) for s, (_, y) in fer_splits.items()} == {
        "Training": 28709, "PublicTest": 3435, "PrivateTest": 3589}
    assert np.bincount(fer_splits["PrivateTest"][1]).tolist() == [491, 55, 528, 879, 594, 416, 626]


def test_folder_layout(tmp_path, sample):
    _write_folder(tmp_path, sample)
    _check(load_fer2013(tmp_path), sample)


def test_zip_layout(tmp_path, sample):
    _write_folder(tmp_path / "src", sample)
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        for f in (tmp_path / "src").rglob("*.png"):
            zf.write(f, f.relative_to(tmp_path / "src"))
    _check(load_fer2013(tmp_path / "f.zip"), sample)


def test_classic_csv(tmp_path, sample):
    with open(tmp_path / "fer2013.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["emotion", "pixels", "Usage"])
        for split, (xs, ys) in sample.items():
            for x, y in zip(xs, ys):
                w.writerow([int(y), " ".join(map(str, x.ravel())), split])
    _check(load_fer2013(tmp_path / "fer2013.csv"), sample)
    _check(load_fer2013(tmp_path), sample)          # a folder holding only the csv


def test_cache_round_trip(tmp_path, sample):
    _write_folder(tmp_path / "d", sample)
    first = load_fer2013(tmp_path / "d", cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").glob("*.npz"))
    _check(load_fer2013(tmp_path / "d", cache_dir=tmp_path / "cache"), sample)
    _check(first, sample)


def test_bad_sources(tmp_path):
    with pytest.raises(DatasetError, match="no FER2013 data"):
        load_fer2013(tmp_path / "absent.zip")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(DatasetError, match="neither"):
        load_fer2013(tmp_path / "x.txt")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="lacks the columns"):
        load_fer2013(tmp_path / "bad.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no FER2013 images"):
        load_fer2013(tmp_path / "empty")
