"""The frames the timeline page shows, written while the media is analysed: one zip of JPEGs.

Showing a frame on request used to mean decoding the upload in the web process: a frame late in a
video with one keyframe cost every frame before it (a minute of CPU for one request), and a frame
larger than the container said cost its full size in memory. Instead, the job that analyses the file
(and decodes it anyway, each frame checked against the limits) keeps a bounded set of analysed frames,
boxes drawn, and the page is served those bytes as they are: nothing is decoded to answer it.

At most ``max_frames`` are kept, evenly spaced: every analysed frame of a short video, every k-th of
a long one (``step`` says which: the frames whose index is a multiple of it). Each is scaled down to
at most ``max_edge`` pixels on its longer side, which is more than the page shows it at.

Stored (ZIP_STORED: JPEGs do not compress further) as ``<frame>.jpg`` members, so one member is read
without reading the others. No Django here: the site stores the file through its storage API.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import BinaryIO, List, Optional

import cv2
import numpy as np

from .annotate import draw_faces
from .results import FaceResult

MAX_FRAMES = 300
MAX_EDGE = 1280
JPEG_QUALITY = 85


def pack_step(frame_count: int, frame_step: int, max_frames: int = MAX_FRAMES) -> int:
    """The spacing, in frames, of the frames kept: a multiple of the frame step, so that every frame
    kept was analysed, and wide enough that at most ``max_frames`` are."""
    analysed = math.ceil(max(frame_count, 1) / frame_step)
    return frame_step * max(1, math.ceil(analysed / max_frames))


def member(frame: int) -> str:
    return f"{frame}.jpg"


class FramePackSink:
    """A driver.Sink that keeps the frames to show (see the module's docstring). ``written`` says
    whether the file holds at least one frame; ``step`` which frames it holds."""

    def __init__(self, path, max_frames: int = MAX_FRAMES, max_edge: int = MAX_EDGE):
        self.path = Path(path)
        self.max_frames, self.max_edge = max_frames, max_edge
        self.step = 1
        self.kept: List[int] = []
        self.zip: Optional[zipfile.ZipFile] = None

    @property
    def written(self) -> bool:
        return bool(self.kept) and self.zip is None

    def begin(self, kind, info, frame_step) -> None:
        self.step = 1 if kind == "image" else pack_step(info.frame_count, frame_step, self.max_frames)
        self.zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_STORED)

    def frame(self, index: int, t: float, bgr: np.ndarray, faces: List[FaceResult]) -> None:
        # the header's frame count can be short: the count kept is bounded whatever it said
        if self.zip is None or index % self.step or len(self.kept) >= self.max_frames:
            return
        drawn = draw_faces(bgr, faces) if faces else bgr
        scale = self.max_edge / max(drawn.shape[:2])
        if scale < 1:
            size = (max(1, round(drawn.shape[1] * scale)), max(1, round(drawn.shape[0] * scale)))
            drawn = cv2.resize(drawn, size, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", drawn, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            self.zip.writestr(member(index), jpeg.tobytes())
            self.kept.append(index)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()
            self.zip = None


def read_frame(pack: BinaryIO, frame: int) -> Optional[bytes]:
    """The JPEG kept for ``frame``, or None when the pack does not hold it. Reads the zip's directory
    and that one member only."""
    try:
        with zipfile.ZipFile(pack) as zf:
            return zf.read(member(frame))
    except KeyError:
        return None
