"""FER2013 loaders: the image-folder zip, its extracted folder, and the classic ``fer2013.csv``.

Every loader returns the same thing: ``{split: (images, labels)}`` with ``images`` a ``uint8`` array
of shape ``(N, 48, 48)`` and ``labels`` an ``int64`` array of class indices into ``EMOTIONS``.
Splits are named as in FER2013 itself: ``Training``, ``PublicTest``, ``PrivateTest``. In the folder
layout the split is the file name's prefix (``test/`` mixes PublicTest and PrivateTest), so we read it
from there rather than from the folder.
"""

from __future__ import annotations

import csv
import hashlib
import os
import zipfile
from pathlib import Path
from typing import Dict, Iterable, Iterator, Tuple

import cv2
import numpy as np

from emotion.ml.labels import EMOTIONS

SPLITS = ("Training", "PublicTest", "PrivateTest")
Split = Tuple[np.ndarray, np.ndarray]


class DatasetError(ValueError):
    """The data set is missing or not in a layout we understand."""


def load_fer2013(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Dict[str, Split]:
    """Load FER2013 from a zip, a folder or a csv; decoded arrays are cached as ``.npz`` when asked."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"no FER2013 data at {path}")
    cache = _cache_file(path, cache_dir) if cache_dir else None
    if cache is not None and cache.exists():
        with np.load(cache) as z:
            return {s: (z[f"{s}_x"], z[f"{s}_y"]) for s in SPLITS if f"{s}_x" in z}
    if path.is_dir():
        csvs = sorted(path.glob("*.csv"))
        data = _from_csv(csvs[0]) if csvs and not (path / "train").exists() else _from_items(_folder_items(path))
    elif path.suffix.lower() == ".zip":
        data = _from_items(_zip_items(path))
    elif path.suffix.lower() == ".csv":
        data = _from_csv(path)
    else:
        raise DatasetError(f"{path} is neither a .zip, a .csv nor a folder")
    if not data:
        raise DatasetError(f"found no FER2013 images in {path}")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, **{f"{s}_{k}": v for s, (x, y) in data.items() for k, v in (("x", x), ("y", y))})
        os.replace(tmp, cache)
    return data


def _cache_file(path: Path, cache_dir) -> Path:
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return Path(cache_dir) / f"fer2013-{key}.npz"


def _split_of(name: str) -> str | None:
    base = os.path.basename(name)
    for split in SPLITS:
        if base.startswith(split):
            return split
    return None


def _label_of(name: str) -> int | None:
    parent = os.path.basename(os.path.dirname(name)).lower()
    return EMOTIONS.index(parent) if parent in EMOTIONS else None


def _zip_items(path: Path) -> Iterator[Tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                yield info.filename, zf.read(info)


def _folder_items(path: Path) -> Iterator[Tuple[str, bytes]]:
    for file in sorted(path.rglob("*")):
        if file.is_file():
            yield str(file.relative_to(path)), file.read_bytes()


def _from_items(items: Iterable[Tuple[str, bytes]]) -> Dict[str, Split]:
    buckets: Dict[str, Tuple[list, list]] = {}
    for name, blob in items:
        split, label = _split_of(name), _label_of(name)
        if split is None or label is None:
            continue
        img = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise DatasetError(f"cannot decode {name}")
        if img.shape != (48, 48):
            img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
        xs, ys = buckets.setdefault(split, ([], []))
        xs.append(img)
        ys.append(label)
    return {s: (np.stack(xs), np.asarray(ys, np.int64)) for s, (xs, ys) in buckets.items()}


def _from_csv(path: Path) -> Dict[str, Split]:
    buckets: Dict[str, Tuple[list, list]] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{path} lacks the columns {sorted(missing)}")
        for row in reader:
            pixels = np.array(row["pixels"].split(), dtype=np.uint8)
            if pixels.size != 48 * 48:
                raise DatasetError(f"{path}: a row has {pixels.size} pixels, not 2304")
            xs, ys = buckets.setdefault(row["Usage"], ([], []))
            xs.append(pixels.reshape(48, 48))
            ys.append(int(row["emotion"]))
    return {s: (np.stack(xs), np.asarray(ys, np.int64)) for s, (xs, ys) in buckets.items()}
