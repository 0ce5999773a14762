"""Reading images and videos with OpenCV, with clear errors for what cannot be read.

OpenCV signals failure by returning ``None`` or an empty read rather than raising, so every reader here
checks and raises a ``MediaError`` subclass with a sentence a user can act on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

import cv2
import numpy as np

MAX_IMAGE_PIXELS = int(os.environ.get("FER_MAX_IMAGE_PIXELS", 50_000_000))
# OpenCV reads this once, at its first decode, and refuses larger images before allocating them:
# a small file that claims huge dimensions is never decoded.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))


class MediaError(ValueError):
    """The file cannot be analysed; the message says why."""


class UnreadableMediaError(MediaError):
    pass


class NotDecodableError(UnreadableMediaError):
    """The bytes are there but the decoder does not understand them."""


class TruncatedVideoError(MediaError):
    def __init__(self, message: str, frames_read: int):
        super().__init__(message)
        self.frames_read = frames_read


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frame_count: int
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps else 0.0


def _require_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise UnreadableMediaError(f"{path}: no such file")
    if not path.is_file():
        raise UnreadableMediaError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise UnreadableMediaError(f"{path}: the file is empty")
    return path


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Encoded image bytes -> BGR uint8 array."""
    buf = np.frombuffer(data, np.uint8)
    if buf.size == 0:
        raise UnreadableMediaError(f"{name}: the file is empty")
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    except cv2.error as exc:               # raised from the header, before any pixel is decoded
        if "MAX_IMAGE_PIXELS" in str(exc):
            raise UnreadableMediaError(f"{name}: the image's dimensions are over the limit of "
                                       f"{MAX_IMAGE_PIXELS:,} pixels") from None
        img = None
    if img is None:
        raise NotDecodableError(f"{name}: not an image OpenCV can decode")
    if img.shape[0] * img.shape[1] > MAX_IMAGE_PIXELS:
        raise UnreadableMediaError(f"{name}: {img.shape[1]}x{img.shape[0]} pixels is over the limit of "
                                   f"{MAX_IMAGE_PIXELS:,} pixels")
    return img


def read_image(path) -> np.ndarray:
    path = _require_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableMediaError(f"{path}: cannot be read ({exc.strerror})") from None
    return decode_image(data, str(path))


def probe_video(path) -> VideoInfo:
    """Open a video and read its first frame, or raise: a file that is not a video fails here."""
    path = _require_file(path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise NotDecodableError(f"{path}: not a video OpenCV can decode")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise NotDecodableError(f"{path}: no frame could be decoded (not a video, or damaged)")
        fps = cap.get(cv2.CAP_PROP_FPS)
        return VideoInfo(fps=fps if 0 < fps < 1000 else 25.0, frame_count=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 1),
                         width=frame.shape[1], height=frame.shape[0])
    finally:
        cap.release()


def iter_frames(path, step: int = 1, info: Optional[VideoInfo] = None) -> Iterator[Tuple[int, np.ndarray]]:
    """(index, BGR frame) for every ``step``-th frame. Raises TruncatedVideoError, after the last frame
    it could decode, when the stream ends well before the frame count in the header."""
    info = info or probe_video(path)
    cap = cv2.VideoCapture(str(path))
    index, last_ms = 0, 0.0
    try:
        while True:
            if index % step == 0:
                ok, frame = cap.read()
                if not ok:
                    break
                last_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                yield index, frame
            elif not cap.grab():
                break
            index += 1
    finally:
        cap.release()
    # Containers round their frame counts, and some estimate them from duration x fps (variable frame
    # rate): only a stream that stops short both in frames and in time is called damaged.
    short_in_time = last_ms / 1000.0 < info.duration * 0.95 - 0.1
    if index < info.frame_count * 0.95 - 2 and short_in_time:
        raise TruncatedVideoError(f"{path}: the video is truncated or damaged: decoding stopped at frame "
                                  f"{index} of {info.frame_count}", frames_read=index)


def open_media(path) -> Tuple[str, Union[np.ndarray, VideoInfo]]:
    """Decide the kind by content, never by name: ("image", BGR array) or ("video", VideoInfo)."""
    path = _require_file(path)
    if cv2.haveImageReader(str(path)):           # reads the file's signature only, not the whole file
        try:
            return "image", read_image(path)
        except NotDecodableError:
            pass
    try:
        info = probe_video(path)
    except NotDecodableError:
        raise NotDecodableError(f"{path}: neither an image nor a video that can be decoded "
                                "(a damaged or truncated file, or another format)") from None
    return "video", info
