"""Frame analysis off the event loop: one thread pool shared by every live connection of a process.

A connection hands one frame at a time to the pool, so a slow frame delays only its own connection;
the pool's size bounds how many frames run at once, whatever the number of connections.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

from django.conf import settings

from emotion.ml.media import NotDecodableError, OverLimitError, decode_image
from emotion.runtime import get_engine

from .guards import declared_size

_lock = threading.Lock()
_executor: Optional[ThreadPoolExecutor] = None
_scanner: Optional[ThreadPoolExecutor] = None


def _init_thread(torch_threads: int) -> None:
    # Several frames run at once on few cores: intra-op threads per frame would only contend.
    if torch_threads > 0:
        import torch

        torch.set_num_threads(torch_threads)


def _one_opencv_thread() -> None:
    """OpenCV's own thread pool off in this process: the pool's threads and the scanner are the
    parallelism here, and OpenCV splitting each small call (a face's window, a resize) over its pool
    costs CPU that a loaded server lacks: 8% more per frame on the shared clip at 640 px, for the
    same faces and readings (benchmarks/results/live.json). Process-wide, as OpenCV's setting is:
    a web process runs no other OpenCV work (uploads are probed in a process of their own and
    analysed by the Celery workers)."""
    import cv2

    cv2.setNumThreads(1)


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _lock:
            if _executor is None:
                _one_opencv_thread()
                _executor = ThreadPoolExecutor(max_workers=settings.FER_LIVE_WORKERS, thread_name_prefix="fer-live",
                                               initializer=_init_thread, initargs=(settings.FER_LIVE_TORCH_THREADS,))
    return _executor


def scanner() -> ThreadPoolExecutor:
    """One thread for every connection's full-frame scans: a scan (tens of ms) then never delays a
    reply, and all scans together take at most one core."""
    global _scanner
    if _scanner is None:
        with _lock:
            if _scanner is None:
                _scanner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fer-live-scan")
    return _scanner


def check_frame_header(data: bytes) -> None:
    """Refuse, before decoding, a frame that is not a JPEG, PNG or WebP whose header can be read, or
    whose header claims more pixels than a live frame may have."""
    size = declared_size(data)
    if size is None:
        raise NotDecodableError("frame: not a JPEG, PNG or WebP image, or its header cannot be read")
    if size[0] * size[1] > settings.FER_LIVE_MAX_FRAME_PIXELS:
        raise OverLimitError(f"frame: {size[0]}x{size[1]} pixels is over the live limit of "
                             f"{settings.FER_LIVE_MAX_FRAME_PIXELS:,} pixels; send a smaller frame")


def new_stream():
    """A fresh per-connection stream; loads the engine on first use (call it in the pool)."""
    return get_engine().stream(settings.FER_LIVE_SCAN_SECONDS, scan_executor=scanner())


def analyse(stream, data: bytes, t: float) -> List[dict]:
    """Encoded frame, received at ``t`` seconds -> the faces in it, each smoothed over its own past
    frames on this stream. Raises MediaError subclasses for frames that cannot be analysed."""
    check_frame_header(data)
    bgr = decode_image(data, "frame", max_pixels=settings.FER_LIVE_MAX_FRAME_PIXELS)
    return [face.to_dict() for face in stream.process(bgr, t=t)]


class ConnectionStream:
    """One connection's stream of frames, made and fed in the pool: its faces keep their tracks and
    LSTM states from frame to frame until ``reset``."""

    def __init__(self):
        self.stream = None

    async def analyse(self, data: bytes, arrival: float) -> List[dict]:
        loop = asyncio.get_running_loop()
        if self.stream is None:
            self.stream = await loop.run_in_executor(executor(), new_stream)
        return await loop.run_in_executor(executor(), analyse, self.stream, data, arrival)

    def reset(self) -> None:
        if self.stream is not None:
            self.stream.reset()


async def model_version() -> str:
    """The engine's version; loads the engine in the pool on first use."""
    engine = await asyncio.get_running_loop().run_in_executor(executor(), get_engine)
    return engine.version
