"""Reading images (OpenCV) and videos (PyAV, through video_read.py), with clear errors for what cannot
be read, and refusing media whose size would make decoding costly before any pixel is decoded.

OpenCV signals failure by returning ``None`` or an empty read rather than raising, so every reader here
checks and raises a ``MediaError`` subclass with a sentence a user can act on. Videos are not read
through OpenCV: it decodes a frame of any size (video_read.py says why that matters).

Sizes come from headers, read by kept libraries: Pillow for images (JPEG in any segment order, PNG,
WebP; it reads up to the first scan or IDAT chunk and decodes nothing) and PyAV (FFmpeg) for videos
(the container's frame size and duration, with FFmpeg's decoders told the pixel limit). OpenCV's own
limit (``OPENCV_IO_MAX_IMAGE_PIXELS``, set in ``emotion/ml/__init__.py`` before OpenCV loads) stays as
the last line for the formats Pillow does not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

from . import MAX_IMAGE_PIXELS, MAX_VIDEO_PIXELS  # noqa: F401 - first: sets OpenCV's limit before cv2 loads

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from .media_checks import (ImageHeader, MediaError, NotDecodableError, OverLimitError,  # noqa: E402,F401
                           TruncatedVideoError, UnreadableMediaError, check_pixels, image_format, image_header)


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


def decode_image(data: bytes, name: str = "image", max_pixels: Optional[int] = None) -> np.ndarray:
    """Encoded image bytes -> BGR uint8 array. A JPEG, PNG or WebP larger than ``max_pixels``
    (MAX_IMAGE_PIXELS by default) is refused from its header, before any pixel is decoded; other
    formats OpenCV reads (BMP, TIFF...) are held by OpenCV's own limit."""
    limit = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    buf = np.frombuffer(data, np.uint8)
    if buf.size == 0:
        raise UnreadableMediaError(f"{name}: the file is empty")
    if image_format(data[:16]):
        header = image_header(data, name)
        check_pixels(header.width, header.height, limit, name)
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    except cv2.error as exc:               # raised from the header, before any pixel is decoded
        if "MAX_IMAGE_PIXELS" in str(exc):
            raise OverLimitError(f"{name}: the image's dimensions are over the limit of "
                                 f"{MAX_IMAGE_PIXELS:,} pixels", limit=MAX_IMAGE_PIXELS) from None
        if "alloc" in str(exc).lower() or "memory" in str(exc).lower():
            raise MemoryError(f"{name}: decoding ran out of memory") from None
        img = None
    if img is None:
        raise NotDecodableError(f"{name}: not an image OpenCV can decode")
    check_pixels(img.shape[1], img.shape[0], limit, name)
    return img


def read_image(path) -> np.ndarray:
    path = _require_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableMediaError(f"{path}: cannot be read ({exc.strerror})") from None
    return decode_image(data, str(path))


_REFUSED_SIZE = re.compile(r"Picture size (\d+)x(\d+) exceeds")


@dataclass(frozen=True)
class VideoHeader:
    width: int
    height: int
    duration: Optional[float]       # seconds, when the container says
    fps: Optional[float]


def video_header(path, max_pixels: Optional[int] = None) -> VideoHeader:
    """The frame size and duration a video's container declares, read with PyAV (FFmpeg) without
    decoding a frame, or raise: NotDecodableError for what FFmpeg cannot open as a video,
    OverLimitError for a video stream over ``max_pixels`` (MAX_VIDEO_PIXELS by default). Every video
    stream is checked, not only the first. FFmpeg's decoders are given the limit too (``max_pixels``):
    one that looks at a frame to learn its size refuses a larger frame before allocating it (its log
    names the size refused); a stream whose size cannot be read at all is refused as damaged."""
    import av      # here, not above: only what probes videos needs it
    import av.logging

    limit = MAX_VIDEO_PIXELS if max_pixels is None else max_pixels
    path = _require_file(path)
    level, skip = av.logging.get_level(), av.logging.get_skip_repeated()
    av.logging.set_level(av.logging.ERROR)        # FFmpeg's refusal, caught below, names the size
    av.logging.set_skip_repeated(False)
    try:
        with av.logging.Capture(True) as logs:
            container = av.open(str(path), options={"max_pixels": str(limit)})
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise NotDecodableError(f"{path}: not a video FFmpeg can open (damaged, truncated or another "
                                "format)") from None
    finally:
        av.logging.set_level(level)
        av.logging.set_skip_repeated(skip)
    with container:
        streams = list(container.streams.video)
        if not streams:
            raise NotDecodableError(f"{path}: the file holds no video stream")
        for stream in streams:
            width, height = stream.codec_context.width, stream.codec_context.height
            if width <= 0 or height <= 0:
                # FFmpeg forgets a size its decoder refused; its log still says which it was.
                refused = next((m for _, _, text in logs for m in [_REFUSED_SIZE.search(text)] if m), None)
                if refused:
                    check_pixels(int(refused[1]), int(refused[2]), limit, str(path), "video's frame size")
                raise NotDecodableError(f"{path}: the video's frame size cannot be read (a damaged file, or "
                                        "not a video)")
            check_pixels(width, height, limit, str(path), "video's frame size")
        first = streams[0]
        duration = None
        if container.duration and container.duration > 0:
            duration = container.duration / 1_000_000
        elif first.duration and first.time_base:
            duration = float(first.duration * first.time_base)
        rate = first.average_rate or first.guessed_rate
        return VideoHeader(width=first.codec_context.width, height=first.codec_context.height,
                           duration=duration, fps=float(rate) if rate else None)


def probe_video(path, max_pixels: Optional[int] = None) -> VideoInfo:
    """Open a video and decode its first frame, or raise: a file that is not a video fails here. Its
    frame size is checked in the container's header first (video_header), then the first frame is
    decoded the way the engine reads every frame (video_read: the decoder told the limit, the frame's
    size checked before it is converted), in case the header lied. Later frames are checked as they
    are decoded (iter_frames): a header cannot promise them."""
    from .video_read import decoded_frames, stream_facts, upright_size

    limit = MAX_VIDEO_PIXELS if max_pixels is None else max_pixels
    path = _require_file(path)
    video_header(path, limit)
    frames = decoded_frames(path, limit)
    try:
        _, frame = next(frames, (0, None))
    finally:
        frames.close()
    if frame is None:
        raise NotDecodableError(f"{path}: no frame could be decoded (not a video, or damaged)")
    width, height = upright_size(frame)
    fps, count = stream_facts(path)
    return VideoInfo(fps=fps if fps and 0 < fps < 1000 else 25.0, frame_count=max(count, 1),
                     width=width, height=height)


def iter_frames(path, step: int = 1, info: Optional[VideoInfo] = None,
                max_pixels: Optional[int] = None) -> Iterator[Tuple[int, np.ndarray]]:
    """(index, BGR frame) for every ``step``-th frame. Every frame decoded, analysed or not, is held
    to ``max_pixels`` (MAX_VIDEO_PIXELS by default) and to the first frame's size (video_read), and
    only the analysed ones are converted. Raises TruncatedVideoError, after the last frame it could
    decode, when the stream ends well before the frame count in the header."""
    from .video_read import decoded_frames, to_bgr

    limit = MAX_VIDEO_PIXELS if max_pixels is None else max_pixels
    info = info or probe_video(path, limit)
    count, last_s = 0, 0.0
    frames = decoded_frames(path, limit)
    try:
        for index, frame in frames:
            count = index + 1
            if frame.time is not None:
                last_s = frame.time
            if index % step == 0:
                yield index, to_bgr(frame)
    finally:
        frames.close()
    # Containers round their frame counts, and some estimate them from duration x fps (variable frame
    # rate): only a stream that stops short both in frames and in time is called damaged.
    short_in_time = last_s < info.duration * 0.95 - 0.1
    if count < info.frame_count * 0.95 - 2 and short_in_time:
        raise TruncatedVideoError(f"{path}: the video is truncated or damaged: decoding stopped at frame "
                                  f"{count} of {info.frame_count}", frames_read=count)


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
