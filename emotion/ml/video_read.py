"""Decoding a video's frames with PyAV (FFmpeg), every frame's size checked before it costs memory.

A container's header and its first frame say nothing binding about the frames after them: an AVI of
Motion-JPEG frames can hold one 12000 x 12000 frame among 320 x 400 ones (each frame is a JPEG of its
own size), and an H.264 stream can change size at any new sequence header. So the limit is enforced
on every frame, in two places:

- the decoder itself is given the limit (FFmpeg's ``max_pixels``): it refuses to allocate a frame
  over it, before a pixel of it is decoded (FFmpeg returns EINVAL from its buffer allocation);
- each decoded frame's width and height are compared with the first frame's before it is converted
  to an array: a stream whose frame size changes is refused, even under the limit, since the sizes
  stored for it (and everything the analysis assumes about it) would be false.

OpenCV's VideoCapture cannot do either (it decodes any size, then scales to the first frame's), so
nothing in the engine reads videos through it. Frames come out as OpenCV's would: BGR, turned by the
stream's display matrix (a phone's portrait video stands upright), with the same pixels.
"""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

import av
import cv2
import numpy as np

from .media_checks import NotDecodableError, OverLimitError, check_pixels, image_header

# Packets in a row the decoder may reject (a damaged stretch) before decoding stops there; OpenCV's
# FFmpeg reader gives up after as many.
MAX_BAD_PACKETS = 512
# Clockwise turns OpenCV applies for a display matrix's rotation (counter-clockwise degrees).
_TURN = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


class FrameSizeChangedError(NotDecodableError):
    """A frame of another size than the first: the video is refused, not scaled."""


def open_video(path) -> "av.container.InputContainer":
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise NotDecodableError(f"{path}: not a video FFmpeg can open (damaged, truncated or another "
                                "format)") from None


def decoded_frames(path, max_pixels: int) -> Iterator[Tuple[int, "av.VideoFrame"]]:
    """(index, frame) for every frame of the first video stream, each checked: OverLimitError for a
    frame over ``max_pixels`` (refused by the decoder before it is allocated), FrameSizeChangedError
    for a frame of another size than the first. Damaged packets are skipped, as OpenCV does; decoding
    stops after MAX_BAD_PACKETS of them in a row (the caller decides whether that is a truncation)."""
    container = open_video(path)
    try:
        if not container.streams.video:
            raise NotDecodableError(f"{path}: the file holds no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        # read when the decoder opens, at the first packet: every frame's buffer is checked against it
        stream.codec_context.options = {"max_pixels": str(max_pixels)}
        first: Optional[Tuple[int, int]] = None
        index = bad = 0
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.ArgumentError:
                # EINVAL: the frame's size failed FFmpeg's check (over max_pixels, or impossible)
                raise _refused(path, index, packet, stream, max_pixels) from None
            except av.FFmpegError:
                bad += 1
                if bad >= MAX_BAD_PACKETS:
                    return
                continue
            bad = 0
            for frame in frames:
                size = (frame.width, frame.height)
                if first is None:
                    check_pixels(*size, max_pixels, str(path), "video's frame size")
                    first = size
                elif size != first:
                    _refuse_change(path, index, first, size, max_pixels)
                yield index, frame
                index += 1
    finally:
        container.close()


def _refused(path, index: int, packet, stream, max_pixels: int) -> OverLimitError:
    """The decoder's refusal as an error a user can act on, naming the size where it can be read
    without decoding (a Motion-JPEG frame is a JPEG: its header says)."""
    if stream.codec_context.name == "mjpeg":
        try:
            header = image_header(bytes(packet), str(path))
            return OverLimitError(f"{path}: frame {index} is {header.width}x{header.height} pixels "
                                  f"({header.width * header.height:,}), over the limit of {max_pixels:,} pixels",
                                  header.width, header.height, max_pixels)
        except NotDecodableError:
            pass
    return OverLimitError(f"{path}: frame {index} was refused by the decoder: its size is over the limit of "
                          f"{max_pixels:,} pixels, or invalid", limit=max_pixels)


def _refuse_change(path, index: int, first: Tuple[int, int], size: Tuple[int, int], max_pixels: int) -> None:
    check_pixels(*size, max_pixels, f"{path}: frame {index}", "frame")
    raise FrameSizeChangedError(f"{path}: the frame size changes at frame {index}, from {first[0]}x{first[1]} "
                                f"to {size[0]}x{size[1]} pixels; a video whose frames change size is not analysed")


def to_bgr(frame: "av.VideoFrame") -> np.ndarray:
    """The frame as OpenCV gives it: BGR, turned upright by the stream's display matrix."""
    bgr = frame.to_ndarray(format="bgr24")
    turn = _TURN.get((-frame.rotation) % 360)
    return cv2.rotate(bgr, turn) if turn is not None else bgr


def upright_size(frame: "av.VideoFrame") -> Tuple[int, int]:
    """(width, height) of the frame as shown, after the display matrix's turn."""
    if (-frame.rotation) % 180 == 90:
        return frame.height, frame.width
    return frame.width, frame.height


def frame_rate(stream) -> Optional[float]:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else None


def frame_count(stream, duration: Optional[float], fps: Optional[float]) -> int:
    """The stream's frame count as its container states it, else estimated from duration x rate (as
    OpenCV's CAP_PROP_FRAME_COUNT does)."""
    if stream.frames and stream.frames > 0:
        return int(stream.frames)
    if duration and fps:
        return int(np.floor(duration * fps + 0.5))
    return 0


def stream_facts(path) -> Tuple[Optional[float], int]:
    """(frames per second, frame count) from the container, without decoding."""
    container = open_video(path)
    with container:
        if not container.streams.video:
            raise NotDecodableError(f"{path}: the file holds no video stream")
        stream = container.streams.video[0]
        duration = None
        if container.duration and container.duration > 0:
            duration = container.duration / 1_000_000
        elif stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        fps = frame_rate(stream)
        return fps, frame_count(stream, duration, fps)

