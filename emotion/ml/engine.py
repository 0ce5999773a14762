"""The public engine: faces in, smoothed emotion probabilities out, for images, videos and live streams.

    from emotion.ml import load_engine
    engine = load_engine()                       # the shipped checkpoint, or load_engine(path)
    engine.classify_faces(faces)                 # (N, 48, 48) uint8 -> (N, 7) probabilities
    engine.analyze_image(bgr)                    # -> [FaceResult]
    for rec in engine.analyze_video(path): ...   # -> FrameRecord per frame and face
    stream = engine.stream(); stream.process(bgr)  # live: one frame at a time, state kept per face

Every path runs the same model: a still face is a sequence of one; a video or stream carries each
tracked face's LSTM state from frame to frame.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np
import torch

from .checkpoint import load_checkpoint
from .model import fuse_batchnorm
from .faces import Box, DetectorConfig, FaceDetector, crop_faces, to_gray
from .labels import EMOTIONS
from .media import VideoInfo, iter_frames, probe_video
from .normalize import to_tensor
from .tracking import FaceTracker

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_CHECKPOINT = WEIGHTS_DIR / "fer_cnn_lstm.pt"
# A still image is analysed once, so it can afford detection at a finer scale than video frames,
# which finds the small faces of a group photo.
IMAGE_DETECT_SIDE = 1600
# Frames between full-frame scans in video: 4.2x the speed of scanning every frame on the shared clip
# (benchmarks/results/engine.json); known faces are located in every frame regardless.
DETECT_EVERY = 10
# Mean absolute change of a 32x18 thumbnail (grey levels) above which two frames are different shots.
SCENE_CUT_LEVEL = 30.0


@dataclass
class FaceResult:
    face_id: int
    box: Box
    probs: np.ndarray          # (7,) in EMOTIONS order

    @property
    def dominant(self) -> str:
        return EMOTIONS[int(np.argmax(self.probs))]

    def to_dict(self) -> dict:
        return {"id": self.face_id, "box": [int(v) for v in self.box],
                "probs": {e: round(float(p), 5) for e, p in zip(EMOTIONS, self.probs)}, "dominant": self.dominant}


@dataclass
class FrameRecord:
    frame: int
    time: float                # seconds from the start of the video
    face: FaceResult

    def to_dict(self) -> dict:
        return {"frame": self.frame, "time": round(self.time, 4), **self.face.to_dict()}


class Engine:
    def __init__(self, model, meta: dict, version: str, detector_cfg: DetectorConfig = DetectorConfig()):
        self.model = fuse_batchnorm(model.eval()).to(memory_format=torch.channels_last)
        self.meta = meta
        self.norm = meta["norm"]
        self.version = version
        self.detector_cfg = detector_cfg
        self._local = threading.local()    # a Haar cascade is not safe to share between threads
        self.bf16 = use_bf16()

    @property
    def detector(self) -> FaceDetector:
        det = getattr(self._local, "detector", None)
        if det is None:
            det = self._local.detector = FaceDetector(self.detector_cfg)
        return det

    # --- faces already cropped ---------------------------------------------------------------------
    @torch.no_grad()
    def _step(self, faces: np.ndarray, state=None):
        """(N, 48, 48) uint8 faces, one frame of N sequences -> (N, 7) probabilities, new LSTM state."""
        x = to_tensor(faces, self.norm).contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            feats, logits = self.model.frames(x)
        refined, state = self.model.temporal(feats.unsqueeze(1), logits.unsqueeze(1), state)
        return self.model.probs(refined[:, 0]).numpy(), state

    def classify_faces(self, faces: np.ndarray) -> np.ndarray:
        faces = np.asarray(faces)
        if faces.dtype != np.uint8 or faces.ndim != 3 or faces.shape[1:] != (48, 48):
            raise ValueError(f"expected uint8 faces of shape (N, 48, 48), got {faces.dtype} {faces.shape}")
        if len(faces) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        # chunks bound the activations' memory whatever N is
        return np.concatenate([self._step(faces[i:i + 256])[0] for i in range(0, len(faces), 256)])

    # --- whole images, videos, streams -------------------------------------------------------------
    def analyze_image(self, bgr: np.ndarray) -> List[FaceResult]:
        gray = to_gray(bgr)
        boxes = self.detector.detect(gray, max_side=IMAGE_DETECT_SIDE)
        if not boxes:
            return []
        probs = self.classify_faces(crop_faces(gray, boxes))
        return [FaceResult(i + 1, b, p) for i, (b, p) in enumerate(zip(boxes, probs))]

    def stream(self, detect_every: int = DETECT_EVERY) -> "EmotionStream":
        return EmotionStream(self, detect_every)

    def iter_video(self, path, frame_step: int = 1, detect_every: int = DETECT_EVERY,
                   progress: Optional[Callable[[int, int], None]] = None, info: Optional[VideoInfo] = None
                   ) -> Iterator[Tuple[int, float, np.ndarray, List[FaceResult]]]:
        """(frame index, time in s, BGR frame, faces) for each analysed frame. ``progress(done, total)``
        follows the decoding. Raises media errors: unreadable at once, truncated after the frames it
        could read. ``info`` saves probing a video the caller has already opened."""
        info = info or probe_video(path)
        stream = self.stream(detect_every)
        for index, frame in iter_frames(path, frame_step, info):
            yield index, index / info.fps, frame, stream.process(frame)
            if progress is not None:
                progress(index + 1, info.frame_count)

    def analyze_video(self, path, frame_step: int = 1, detect_every: int = DETECT_EVERY,
                      progress: Optional[Callable[[int, int], None]] = None) -> Iterator[FrameRecord]:
        """Per-frame, per-face records; see ``iter_video``."""
        for index, t, _, faces in self.iter_video(path, frame_step, detect_every, progress):
            for face in faces:
                yield FrameRecord(index, t, face)


class EmotionStream:
    """One video or camera: a face tracker plus one LSTM state per tracked face.

    Full-frame detection runs every ``detect_every`` frames, and finds new faces; in between, each
    known face is re-detected in a window around its box (or followed by template matching), which
    costs a few percent of a full detection.
    """

    def __init__(self, engine: Engine, detect_every: int = DETECT_EVERY, scan_scale_factor: float = 1.1):
        self.engine = engine
        self.detect_every = max(1, detect_every)
        # The periodic full-frame scan only has to find new faces (known ones are re-detected near
        # their boxes every frame), so it can take a coarser pyramid step than a one-off detection.
        self.scan_scale_factor = scan_scale_factor
        self.tracker = FaceTracker()
        self.states: Dict[int, tuple] = {}
        self.frames = 0
        self._since_scan = 0
        self._thumb: Optional[np.ndarray] = None

    def process(self, bgr: np.ndarray) -> List[FaceResult]:
        """The faces seen in this frame, each with probabilities smoothed over its own past frames."""
        gray = to_gray(bgr)
        cut = self._scene_cut(gray)
        if cut:                                   # new shot: whoever is there now is someone new
            self.tracker.clear()
            self.states.clear()
        detector = self.engine.detector
        tracks = self.tracker.follow(gray, detector.detect_near)
        if cut or self.frames == 0 or self._since_scan + 1 >= self.detect_every:
            found = detector.detect(gray, scale_factor=self.scan_scale_factor)
            tracks, dropped = self.tracker.update(gray, found)
            for tid in dropped:
                self.states.pop(tid, None)
            self._since_scan = 0
        else:
            self._since_scan += 1
        self.frames += 1
        if not tracks:
            return []
        faces = crop_faces(gray, [t.box for t in tracks])
        state = self._gather([t.id for t in tracks])
        probs, (h, c) = self.engine._step(faces, state)
        for i, t in enumerate(tracks):
            self.states[t.id] = (h[:, i:i + 1], c[:, i:i + 1])
        return [FaceResult(t.id, t.box, p) for t, p in zip(tracks, probs)]

    def _scene_cut(self, gray: np.ndarray) -> bool:
        """A cut brings new faces at once: scan now instead of waiting for the next periodic scan."""
        thumb = cv2.resize(gray, (32, 18), interpolation=cv2.INTER_AREA).astype(np.int16)
        cut = self._thumb is not None and float(np.abs(thumb - self._thumb).mean()) > SCENE_CUT_LEVEL
        self._thumb = thumb
        return cut

    def _gather(self, ids: List[int]):
        """Stack the known faces' states; a new face starts from zeros."""
        if not any(i in self.states for i in ids):
            return None
        hidden = self.engine.model.cfg.lstm_hidden
        zero = torch.zeros(1, 1, hidden)
        hs = [self.states.get(i, (zero, zero))[0] for i in ids]
        cs = [self.states.get(i, (zero, zero))[1] for i in ids]
        return torch.cat(hs, 1), torch.cat(cs, 1)

    def reset(self) -> None:
        self.tracker = FaceTracker()
        self.states.clear()
        self.frames = self._since_scan = 0
        self._thumb = None


def use_bf16() -> bool:
    """bf16 autocast is about twice as fast on CPUs with AVX-512 BF16 (or AMX) and far slower on
    others. FER_BF16=0/1 overrides the check."""
    forced = os.environ.get("FER_BF16")
    if forced is not None:
        return forced.lower() in ("1", "true", "yes")
    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(check and check())


def load_engine(path=None, detector_cfg: DetectorConfig = DetectorConfig()) -> Engine:
    path = Path(path) if path else DEFAULT_CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"no model checkpoint at {path}")
    model, meta = load_checkpoint(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    version = f"{meta.get('name', 'fer-cnn-lstm')}@{digest}"
    return Engine(model, meta, version, detector_cfg)
