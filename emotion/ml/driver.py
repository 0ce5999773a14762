"""One way to run a file through the engine: decode, analyse, hand each frame to sinks.

The ``analyze`` command and the site's analysis job are both thin adapters over ``run_media``: they
choose sinks (result rows, an annotated copy) and report the outcome. What happens to a truncated
video, a video that runs past its limit or a file that is not media is decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Protocol, Sequence

import av
import cv2
import numpy as np

from .annotate import draw_faces
from .media import MediaError, TruncatedVideoError, VideoInfo, open_media, probe_video, read_image
from .results import FaceResult
from .video_out import AnnotatedVideo, VideoOutError


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
    """The media with boxes and labels drawn: an image file, or a video browsers play (video_out.py:
    H.264 MP4 or VP9 WebM, with the original's sound and timing). ``source`` is the original, for its
    sound; ``blur`` hides each face under its box. ``written`` says whether a file came out; ``error``
    why not."""

    def __init__(self, path, source=None, blur: bool = False):
        self.path = Path(path)
        self.source = source
        self.blur = blur
        self.video: Optional[AnnotatedVideo] = None
        self.is_video = False
        self.written = False
        self.error = ""

    def begin(self, kind, info, frame_step) -> None:
        self.is_video = kind == "video"
        if self.is_video:
            try:
                self.video = AnnotatedVideo(self.path, info.fps, info.frame_count, frame_step, self.source)
            except VideoOutError as exc:
                self.error = str(exc)

    def frame(self, index, t, bgr, faces) -> None:
        drawn = draw_faces(bgr, faces, blur=self.blur) if faces else bgr
        if not self.is_video:                      # an image: without faces there is nothing to draw
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
        if self.video is None:
            return
        try:
            self.video.write(index, drawn)
        except (VideoOutError, av.FFmpegError) as exc:
            self.error = str(exc) if isinstance(exc, VideoOutError) else f"could not write the video {self.path}: {exc}"
            self._drop()

    def _drop(self) -> None:
        video, self.video = self.video, None
        try:
            video.close()
        except (av.FFmpegError, OSError):
            pass

    def close(self) -> None:
        if self.video is not None:
            try:
                self.video.close()
            except (av.FFmpegError, OSError) as exc:
                self.error = f"could not finish the video {self.path}: {exc}"
            self.video = None
            self.written = not self.error and self.path.exists() and self.path.stat().st_size > 0
