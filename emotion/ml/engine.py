"""The public engine: faces in, smoothed emotion probabilities out, for images, videos and live streams.

    from emotion.ml import load_engine
    engine = load_engine()                       # the shipped checkpoint, or load_engine(path)
    engine.classify_faces(faces)                 # (N, 48, 48) uint8 -> (N, 7) probabilities
    engine.analyze_image(bgr)                    # -> [FaceResult]
    for face in engine.analyze_video(path): ...  # -> FaceResult per frame and face
    stream = engine.stream(); stream.process(bgr, t=seconds)  # live: one frame at a time

Every path runs the same CNN: a still face is read by the CNN alone (it has no time for the LSTM to
use); a video or stream carries each tracked face's LSTM state from frame to frame, stepped once per
nominal frame of time whatever the frame rate. A result's fields are defined once, in results.py.

Over 300 lines because the engine and its stream share one reading of a face (crop, CNN, mirror view,
LSTM steps, quality, shown label) through private helpers and constants; apart, each would need the
other's internals.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch

from .checkpoint import biases_for_stills_only, load_checkpoint
from .faces import DetectorConfig, FaceDetector, crop_faces, to_gray
from .labelling import NOMINAL_FPS, ShownLabel
from .labels import EMOTIONS
from .media import MediaError, VideoInfo, iter_frames, probe_video
from .model import fuse_batchnorm
from .normalize import to_tensor
from .quality import brightness, confidence, is_reliable, noise, sharpness
from .results import DETECTED, Box, FaceResult
from .shots import CutDetector
from .tracking import HOLD_SECONDS, FaceTracker, centre_distance

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_CHECKPOINT = WEIGHTS_DIR / "fer_cnn_lstm.pt"
# A still image is analysed once, so it can afford detection at a finer scale than video frames,
# which finds the small faces of a group photo.
IMAGE_DETECT_SIDE = 1600
# Seconds between full-frame scans for new faces in video (20 frames at 30 frames/s); known faces are
# re-detected near their boxes in every frame regardless, and a shot cut scans at once, so the scans
# only find faces that come into a shot. A scan is half of all the work on the shared clip at 0.33 s;
# at 0.66 s the clip runs 30% faster with the same face recall (benchmarks/results/engine.json). A
# face that walks into a shot is found at most this late.
SCAN_SECONDS = 0.66
# The periodic scan's pyramid step: the detector's own default. A coarser step (1.2) halves the
# scan's cost but finds a face on a quarter fewer frames of the shared clip.
SCAN_SCALE_FACTOR = 1.1
# Without timestamps (a stream fed frames only), frames are taken NOMINAL_FPS apart (labelling.py,
# where the shown label's time rule counts steps of it, and where pages read it without the engine).
# The LSTM learnt time at NOMINAL_FPS: a face seen again after a longer gap (frame step 3, a live page
# sending 10 frames/s) goes through the LSTM once per nominal frame of the gap, with the frame it has,
# so its readings move at the same speed in seconds whatever the frame rate; gaps count at most this
# many steps (a face lost for longer is a new track anyway, tracking.HOLD_SECONDS).
MAX_LSTM_STEPS = 10
# Frames whose faces go through the CNN in one batch in video: batching across frames is several
# times cheaper per face than one frame at a time (benchmarks/results/engine.json).
VIDEO_BATCH_FRAMES = 16
# Video and live frames average in each face's mirror image, as still images do: without it the CNN
# costs half as much, but for v1 macro F1 on the temporal benchmark's PublicTest clips fell by 1.9
# points and a still face's label flickered more (evaluate.stream_choices). For v3 the loss is 0.2
# points, and the rule would drop it; it stays until the video-like benchmark, measured with it, is
# re-run with single views (the card's stream_view).
STREAM_MIRROR = True


class Engine:
    def __init__(self, model, meta: dict, version: str, detector_cfg: DetectorConfig = DetectorConfig()):
        # output biases judged on still faces only are added to still faces only (emotion/training/calibrate.py)
        self.still_bias = torch.zeros_like(model.output_bias)
        if biases_for_stills_only(meta):
            self.still_bias = model.output_bias.clone()
            model.output_bias.zero_()
        self.model = fuse_batchnorm(model.eval()).to(memory_format=torch.channels_last)
        self.meta = meta
        self.norm = meta["norm"]
        self.version = version
        self.detector_cfg = detector_cfg
        self._local = threading.local()    # a Haar cascade is not safe to share between threads
        self.bf16 = use_bf16()
        # the confidence's temperature, fitted on PublicTest after training (1: the raw top probability)
        self.temperature = float(meta.get("temperature", 1.0))

    @property
    def detector(self) -> FaceDetector:
        det = getattr(self._local, "detector", None)
        if det is None:
            det = self._local.detector = FaceDetector(self.detector_cfg)
        return det

    # --- faces already cropped ---------------------------------------------------------------------
    @torch.no_grad()
    def cnn(self, faces: np.ndarray, mirror: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
        """(N, 48, 48) uint8 faces -> per-face features (N, F) and CNN logits (N, C), in chunks that
        bound the activations' memory whatever N is."""
        feats, logits = [], []
        for i in range(0, len(faces), 256):
            x = to_tensor(faces[i:i + 256], self.norm).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                f, lo = self.model.frames(x, tta=mirror)
            feats.append(f)
            logits.append(lo)
        return torch.cat(feats), torch.cat(logits)

    @torch.no_grad()
    def temporal_step(self, feats: torch.Tensor, logits: torch.Tensor, state=None):
        """One frame of N sequences: (N, F), (N, C) -> (N, 7) probabilities and the new LSTM state."""
        refined, state = self.model.temporal(feats.unsqueeze(1), logits.unsqueeze(1), state)
        return self.model.probs(refined[:, 0]).numpy(), state

    @torch.no_grad()
    def classify_faces(self, faces: np.ndarray) -> np.ndarray:
        faces = np.asarray(faces)
        if faces.dtype != np.uint8 or faces.ndim != 3 or faces.shape[1:] != (48, 48):
            raise ValueError(f"expected uint8 faces of shape (N, 48, 48), got {faces.dtype} {faces.shape}")
        if len(faces) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        # A still face has no time: its reading is the CNN's. The LSTM's correction is learnt over
        # frames, and on a sequence of one it cost v3 0.3 points of accuracy and 0.9 of macro F1 on
        # PublicTest (0.686 / 0.659 against 0.689 / 0.668; emotion/weights/model_card.json).
        _, logits = self.cnn(faces)
        return self.model.probs(logits + self.still_bias).numpy()

    # --- whole images, videos, streams -------------------------------------------------------------
    def analyze_image(self, bgr: np.ndarray) -> List[FaceResult]:
        gray = to_gray(bgr)
        boxes = self.detector.detect(gray, max_side=IMAGE_DETECT_SIDE)
        if not boxes:
            return []
        crops = crop_faces(gray, boxes)
        probs = self.classify_faces(crops)
        return [_result(i + 1, b, p, -1, DETECTED, crop, self.temperature)
                for i, (b, p, crop) in enumerate(zip(boxes, probs, crops))]

    def stream(self, scan_seconds: float = SCAN_SECONDS, hold_seconds: float = HOLD_SECONDS,
               scan_executor: Optional[Executor] = None) -> "EmotionStream":
        return EmotionStream(self, scan_seconds, hold_seconds, scan_executor)

    def iter_video(self, path, frame_step: int = 1, scan_seconds: float = SCAN_SECONDS,
                   progress: Optional[Callable[[int, int], None]] = None, info: Optional[VideoInfo] = None,
                   stream: Optional["EmotionStream"] = None
                   ) -> Iterator[Tuple[int, float, np.ndarray, List[FaceResult]]]:
        """(frame index, time in s, BGR frame, faces) for each analysed frame, in order.
        ``progress(done, total)`` follows the decoding. Raises media errors: unreadable at once,
        truncated after the frames it could read. ``info`` saves probing a video already opened;
        a ``stream`` of the caller's own can be read afterwards (its ``cut_frames``, say).

        Two stages overlap on two cores: a thread decodes frames and locates their faces (OpenCV),
        while this one runs the model on the faces of ``VIDEO_BATCH_FRAMES`` frames at a time (torch).
        The results are the same as feeding the frames one by one to ``stream().process``."""
        info = info or probe_video(path)
        stream = stream or self.stream(scan_seconds)

        def locate_all():
            frames = background(iter_frames(path, frame_step, info), 8)
            try:
                for index, frame in frames:
                    yield frame, stream.locate(frame, index, index / info.fps)
            finally:
                frames.close()

        def classify_all():
            located = background(locate_all(), 2 * VIDEO_BATCH_FRAMES)
            batch: List[tuple] = []
            try:
                for item in located:
                    batch.append(item)
                    if len(batch) >= VIDEO_BATCH_FRAMES:
                        yield from stream.classify_batch(batch)
                        batch = []
            except MediaError:
                # a truncated video: the frames decoded before the damage are analysed first
                yield from stream.classify_batch(batch)
                raise
            finally:
                located.close()
            yield from stream.classify_batch(batch)

        # One intra-op thread for the model: the other stages keep the other cores busy, and more
        # torch threads only contend with them (250 against 178 frames/s on 2 cores).
        results = background(classify_all(), 2 * VIDEO_BATCH_FRAMES, init=lambda: torch.set_num_threads(1))
        try:
            for frame, loc, faces in results:
                yield loc.frame, loc.time, frame, faces
                if progress is not None:
                    progress(loc.frame + 1, info.frame_count)
        finally:
            results.close()

    def analyze_video(self, path, frame_step: int = 1, scan_seconds: float = SCAN_SECONDS,
                      progress: Optional[Callable[[int, int], None]] = None) -> Iterator[FaceResult]:
        """Per-frame, per-face results; see ``iter_video``."""
        for _, _, _, faces in self.iter_video(path, frame_step, scan_seconds, progress):
            yield from faces


_END = object()


@dataclass
class _Failure:
    exc: BaseException


def background(items: Iterator, ahead: int, init: Optional[Callable[[], None]] = None) -> Iterator:
    """Run an iterator in a thread of its own, up to ``ahead`` items ahead of the caller: two stages
    of a pipeline then overlap (OpenCV and torch release the GIL). Its exception is raised here after
    the items before it; closing this generator stops the thread and closes ``items``."""
    out: "queue.Queue" = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            if init is not None:
                init()
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:
            put(_Failure(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=run, name="fer-pipeline", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


@dataclass
class Located:
    """One frame's faces, found and cropped, before the model runs."""
    frame: int
    time: float
    ended: List[int]                 # tracks that ended at this frame: their LSTM state goes
    ids: List[int] = field(default_factory=list)
    boxes: List[Box] = field(default_factory=list)
    sources: List[str] = field(default_factory=list)
    crops: np.ndarray = field(default_factory=lambda: np.zeros((0, 48, 48), np.uint8))


class EmotionStream:
    """One video or camera: a shot-cut detector, a face tracker, one LSTM state and one shown label
    per tracked face.

    ``locate`` (detection and tracking) and ``classify`` (the model) are separate steps so a video can
    run them on two cores; ``process`` does both for one frame. Every ``scan_seconds`` a full-frame
    scan finds new faces; with a ``scan_executor`` (live) the scan runs there, beside the frame's own
    work, and the faces it finds join from the next frame on. A shot cut ends every track: no id,
    LSTM state or box crosses it.
    """

    def __init__(self, engine: Engine, scan_seconds: float = SCAN_SECONDS, hold_seconds: float = HOLD_SECONDS,
                 scan_executor: Optional[Executor] = None, scan_scale_factor: float = SCAN_SCALE_FACTOR):
        self.engine = engine
        self.scan_seconds = scan_seconds
        self.scan_executor = scan_executor
        self.scan_scale_factor = scan_scale_factor
        self.tracker = FaceTracker(hold_seconds)
        self.cuts = CutDetector()
        self.states: Dict[int, tuple] = {}
        self.labels: Dict[int, ShownLabel] = {}     # each face's shown label and its challenger
        self.seen_at: Dict[int, tuple] = {}     # each face's last (time, features, logits), for its LSTM steps
        self.frames = 0
        self.cut_frames: List[int] = []
        self._last_scan: Optional[float] = None
        self._pending: Optional[Future] = None

    def process(self, bgr: np.ndarray, frame: Optional[int] = None, t: Optional[float] = None) -> List[FaceResult]:
        """The faces seen in this frame, each with probabilities smoothed over its own past frames.
        ``t`` is the frame's time in seconds (default: frames counted at NOMINAL_FPS)."""
        return self.classify(self.locate(bgr, frame, t))

    # --- finding the faces -------------------------------------------------------------------------
    def locate(self, bgr: np.ndarray, frame: Optional[int] = None, t: Optional[float] = None) -> Located:
        frame = self.frames if frame is None else frame
        t = self.frames / NOMINAL_FPS if t is None else t
        self.frames += 1
        gray = to_gray(bgr)
        detector = self.engine.detector
        ended: List[int] = []
        cut = self.cuts.is_cut(gray)
        if cut:                                   # new shot: whoever is there now is someone new
            ended += self.tracker.clear()
            self.cut_frames.append(frame)
            self._pending = None                  # a scan of the old shot is of no use
        ended += self.tracker.follow(gray, t, detector.detect_near)
        if self._pending is not None and self._pending.done():
            ended += self._merge_scan(gray, t, self._pending.result())
            self._pending = None
        if cut or self._last_scan is None or t - self._last_scan >= self.scan_seconds:
            first = self._last_scan is None          # nothing is known yet: worth waiting for
            self._last_scan = t
            if self.scan_executor is None or first:
                ended += self.tracker.update(gray, t, detector.detect(gray, scale_factor=self.scan_scale_factor))
            elif self._pending is None:
                self._pending = self.scan_executor.submit(self._scan, gray)
        tracks = self.tracker.located
        boxes = [tr.box for tr in tracks]
        return Located(frame, t, ended, [tr.id for tr in tracks], boxes, [tr.source for tr in tracks],
                       crop_faces(gray, boxes))

    def _scan(self, gray: np.ndarray) -> List[Box]:
        return self.engine.detector.detect(gray, scale_factor=self.scan_scale_factor)

    def _merge_scan(self, gray: np.ndarray, t: float, found: List[Box]) -> List[int]:
        """A scan of an earlier frame: faces the tracks already hold are skipped, new ones must be
        confirmed near their box in this frame before they count."""
        known = [tr.box for tr in self.tracker.located]
        fresh = [d for d in found if all(centre_distance(d, k) > 0.5 for k in known)]
        confirmed = [b for b in (self.engine.detector.detect_near(gray, d) for d in fresh) if b is not None]
        return self.tracker.update(gray, t, confirmed) if confirmed else []

    # --- the model ---------------------------------------------------------------------------------
    def classify(self, loc: Located, feats: Optional[torch.Tensor] = None,
                 logits: Optional[torch.Tensor] = None) -> List[FaceResult]:
        """Run the model on a located frame (or take its CNN outputs, computed in a batch)."""
        for tid in loc.ended:
            self.states.pop(tid, None)
            self.labels.pop(tid, None)
            self.seen_at.pop(tid, None)
        if not loc.ids:
            return []
        if feats is None:
            feats, logits = self.engine.cnn(loc.crops, mirror=STREAM_MIRROR)
        steps, (h, c) = self._steps(feats, logits, loc)
        probs = steps[-1][1]
        out = []
        for i, (tid, box, source, crop, p) in enumerate(zip(loc.ids, loc.boxes, loc.sources, loc.crops, probs)):
            self.states[tid] = (h[:, i:i + 1], c[:, i:i + 1])
            label = self.labels.get(tid, ShownLabel())
            # the shown label follows every step, as at 30 frames/s: its time rule counts steps
            for stepped, step_probs in steps:
                if stepped[i]:
                    label = label.after(step_probs[i])
            self.labels[tid] = label
            out.append(_result(tid, box, p, label.label, source, crop, self.engine.temperature, loc.frame, loc.time))
        return out

    def classify_batch(self, items: List[tuple]) -> Iterator[Tuple[np.ndarray, Located, List[FaceResult]]]:
        """(frame, Located) pairs in order -> (frame, Located, faces): one CNN call for all their faces."""
        if not items:
            return
        crops = [loc.crops for _, loc in items]
        feats = logits = None
        if sum(len(c) for c in crops):
            feats, logits = self.engine.cnn(np.concatenate(crops), mirror=STREAM_MIRROR)
        start = 0
        for (frame, loc), c in zip(items, crops):
            n = len(c)
            faces = self.classify(loc, feats[start:start + n], logits[start:start + n]) if n else self.classify(loc)
            start += n
            yield frame, loc, faces

    def _steps(self, feats: torch.Tensor, logits: torch.Tensor, loc: Located):
        """The LSTM run over each face's time since it was last seen (MAX_LSTM_STEPS): a face seen
        3 nominal frames ago takes 3 steps, whose inputs move in equal parts from the CNN outputs of
        the frame it was last seen on to this frame's (the frames in between, as well as they can be
        guessed); a new face takes one. Returns the steps as (which faces took it, (N, C)
        probabilities after it), the last holding every face's latest, and the new state."""
        n, before_f, before_l = [], feats.clone(), logits.clone()
        for i, tid in enumerate(loc.ids):
            seen = self.seen_at.get(tid)
            n.append(1 if seen is None else min(MAX_LSTM_STEPS, max(1, round((loc.time - seen[0]) * NOMINAL_FPS))))
            if seen is not None:
                before_f[i], before_l[i] = seen[1], seen[2]
            self.seen_at[tid] = (loc.time, feats[i], logits[i])
        steps, probs, state = [], None, self._gather(loc.ids)
        for k in range(max(n)):
            took = np.array([s > k for s in n])
            share = torch.tensor([(k + 1) / s if s > k else 1.0 for s in n]).view(-1, 1)
            f = torch.lerp(before_f, feats, share)
            lo = torch.lerp(before_l, logits, share)
            out, after = self.engine.temporal_step(f, lo, state)
            if state is None:
                state = after
            else:
                keep = torch.from_numpy(took).view(1, -1, 1)
                state = (torch.where(keep, after[0], state[0]), torch.where(keep, after[1], state[1]))
            probs = out if probs is None else np.where(took[:, None], out, probs)
            steps.append((took, probs))
        return steps, state

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
        self.tracker = FaceTracker(self.tracker.hold_seconds)
        self.cuts.reset()
        self.states.clear()
        self.labels.clear()
        self.seen_at.clear()
        self.frames = 0
        self.cut_frames = []
        self._last_scan = None
        self._pending = None


def _result(face_id: int, box: Box, probs: np.ndarray, label: int, source: str, crop: np.ndarray,
            temperature: float = 1.0, frame: int = 0, t: float = 0.0) -> FaceResult:
    size = int(round(float(np.sqrt(box[2] * box[3]))))
    sharp, bright, sigma, conf = sharpness(crop), brightness(crop), noise(crop), confidence(probs, temperature)
    return FaceResult(face_id, tuple(int(v) for v in box), probs, label, source, size, sharp, bright, sigma, conf,
                      is_reliable(source, size, sharp, bright, sigma, conf), frame, t)


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
