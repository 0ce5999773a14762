"""The emotion engine: face detection, the CNN-LSTM and tracking. Pure PyTorch and OpenCV: no Django.

This file runs before any module of the engine, so it is where OpenCV's own image limit is set: OpenCV
reads ``OPENCV_IO_MAX_IMAGE_PIXELS`` once, when its library loads, and a value set after ``import cv2``
is silently ignored (the limit then stays at OpenCV's default of about 1.07 billion pixels). Nothing in
this package imports cv2 before this point, and the names below are loaded on first use, so importing
the package for its limits (the Django settings do) loads neither OpenCV nor PyTorch.
"""

import os as _os
import sys as _sys
import warnings as _warnings

# Images: checked in the header (media.image_header) before decoding, and by OpenCV itself.
MAX_IMAGE_PIXELS = int(_os.environ.get("FER_MAX_IMAGE_PIXELS", 50_000_000))
# Video frames (3840 x 2160 by default): checked in the container's header (media.video_header).
MAX_VIDEO_PIXELS = int(_os.environ.get("FER_MAX_VIDEO_PIXELS", 3840 * 2160))


def _opencv_limit() -> str:
    try:
        given = int(_os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", ""))
    except ValueError:
        given = MAX_IMAGE_PIXELS
    return str(min(given, MAX_IMAGE_PIXELS))


if "cv2" in _sys.modules:          # too late for OpenCV's limit; media.py's header checks still hold
    _warnings.warn("cv2 was imported before emotion.ml: OpenCV's image limit "
                   "(OPENCV_IO_MAX_IMAGE_PIXELS) is not applied in this process", RuntimeWarning)
_os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = _opencv_limit()

_LAZY = {
    "Engine": ".engine", "EmotionStream": ".engine", "load_engine": ".engine",
    "COLUMNS": ".results", "FaceResult": ".results",
    "EMOTIONS": ".labels",
    "MediaError": ".media", "TruncatedVideoError": ".media", "UnreadableMediaError": ".media",
    "OverLimitError": ".media",
}
__all__ = ["MAX_IMAGE_PIXELS", "MAX_VIDEO_PIXELS", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
