"""One way to run a file through the engine: decode, analyse, hand each frame to sinks.

The ``analyze`` command and the site's analysis job are both thin adapters over ``run_media``: they
choose sinks (result rows, an annotated copy) and report the outcome. What happens to a truncated
video, a video that runs past its limit or a file that is not media is decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Protocol, Sequence

import cv2
import numpy as np

from .annotate import draw_faces
from .media import MediaError, TruncatedVideoError, VideoInfo, open_media, probe_video, read_image
from .results import FaceResult


class Sink(Protocol):
    def begin(self, kind: str, info: Optional[VideoInfo], frame_step: int) -> None: ...

    def frame(self, index: int, t: float, bgr: np.ndarray, faces: List[FaceResult]) -> None: ...

    def close(self) -> None: ...


@dataclass
class Outcome:
    kind: str                                   # "image" or "video"
    frames: int                                 # frames analysed
    truncated: Optional[TruncatedVideoError] = None   # decoding stopped early; the frames before it count


def run_media(engine, path, sinks: Sequence[Sink], kind: Optional[str] = None, info: Optional[VideoInfo] = None,
              frame_step: int = 1, progress: Optional[Callable[[int, int], None]] = None,
              max_seconds: Optional[float] = None) -> Outcome:
    """Analyse an image or a video into ``sinks``. ``kind`` (and a video's ``info``) may come from the
    caller's own checks; otherwise the file's content decides. Sinks are closed in every case.
    Raises MediaError for a file that cannot be analysed, or a video longer than ``max_seconds``."""
    try:
        media = None
        if kind is None:
            kind, media = open_media(path)
        if kind == "image":
            bgr = media if media is not None else read_image(path)
            faces = engine.analyze_image(bgr)
            for sink in sinks:
                sink.begin("image", None, 1)
                sink.frame(0, 0.0, bgr, faces)
            return Outcome("image", 1)
        info = info or media or probe_video(path)
        outcome = Outcome("video", 0)
        for sink in sinks:
            sink.begin("video", info, frame_step)
        # The header's frame count can be wrong (or 0, read as 1): stop at what the limit allows.
        last = max(info.frame_count * 1.1, max_seconds * info.fps) if max_seconds else None
        try:
            for index, t, frame, faces in engine.iter_video(path, frame_step, progress=progress, info=info):
                if last is not None and index > last:
                    raise MediaError(f"{path}: the video goes on past its stated length and past the limit of "
                                     f"{max_seconds / 60:.0f} minutes")
                outcome.frames += 1
                for sink in sinks:
                    sink.frame(index, t, frame, faces)
        except TruncatedVideoError as exc:
            outcome.truncated = exc
        return outcome
    finally:
        for sink in sinks:
            sink.close()


class RowSink:
    """The flat result rows (results.COLUMNS), in memory."""

    def __init__(self, model_version: str):
        self.model_version = model_version
        self.rows: List[dict] = []

    def begin(self, kind, info, frame_step) -> None:
        pass

    def frame(self, index, t, bgr, faces) -> None:
        self.rows.extend(f.row(self.model_version) for f in faces)

    def close(self) -> None:
        pass


class AnnotatedSink:
    """The media with boxes and labels drawn: an image file, or an MPEG-4 video at the analysed rate.
    ``written`` says whether a file came out; ``error`` why not, when it could not be opened."""

    def __init__(self, path):
        self.path = Path(path)
        self.fps: Optional[float] = None
        self.writer = None
        self.written = False
        self.error = ""

    def begin(self, kind, info, frame_step) -> None:
        self.fps = info.fps / frame_step if kind == "video" else None

    def frame(self, index, t, bgr, faces) -> None:
        drawn = draw_faces(bgr, faces) if faces else bgr
        if self.fps is None:                       # an image: without faces there is nothing to draw
            if not faces:
                return
            try:
                self.written = bool(cv2.imwrite(str(self.path), drawn, [cv2.IMWRITE_JPEG_QUALITY, 90]))
            except cv2.error:
                self.written = False
            if not self.written:
                self.error = f"could not write the image {self.path} (is the extension an image format, " \
                             "and the folder writable?)"
            return
        if self.writer is None:
            h, w = bgr.shape[:2]
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self.writer.isOpened():
                self.error = f"could not open {self.path} for writing a video"
        if self.writer.isOpened():
            self.writer.write(drawn)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.written = self.path.exists() and self.path.stat().st_size > 0
