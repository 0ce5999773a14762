"""What real cameras do to a face, on 48x48 ``uint8`` grey faces: one module for the evaluation suite
(fixed settings) and for training (settings drawn at random).

Each kind is a plain function ``face -> face`` of one parameter (plus a random generator where the
kind is random in nature). The suite (``evaluate_suite``) names fixed settings; training draws each
kind's setting from a range with ``random_degradations``. Integer settings (JPEG and WebP quality,
captured face size) never take a value the suite uses, so training never sees the exact settings it
is scored on; continuous ones are drawn from continuous ranges.

The degradations act on the raw face, before the lighting normalisation, as a camera's do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Sequence, Tuple

import cv2
import numpy as np

SIDE = 48


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


# --- sensor noise ------------------------------------------------------------------------------------
def gaussian_noise(face: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive read noise of ``sigma`` grey levels."""
    return _u8(face + rng.normal(0.0, sigma, face.shape))


def poisson_noise(face: np.ndarray, peak: float, rng: np.random.Generator) -> np.ndarray:
    """Shot noise: a white pixel collects ``peak`` photons (fewer photons, more noise; a dim sensor)."""
    photons = rng.poisson(face.astype(np.float64) / 255.0 * peak)
    return _u8(photons / peak * 255.0)


# --- compression -------------------------------------------------------------------------------------
def jpeg(face: np.ndarray, quality: float) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def webp(face: np.ndarray, quality: float) -> np.ndarray:
    ok, buf = cv2.imencode(".webp", face, [cv2.IMWRITE_WEBP_QUALITY, int(max(1, quality))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


# --- blur --------------------------------------------------------------------------------------------
def gaussian_blur(face: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(face, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def defocus(face: np.ndarray, radius: float) -> np.ndarray:
    """An out-of-focus lens: the face convolved with a disc of ``radius`` px (anti-aliased edge)."""
    r = int(math.ceil(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = np.clip(radius + 0.5 - np.hypot(yy, xx), 0.0, 1.0).astype(np.float32)
    return _u8(cv2.filter2D(face.astype(np.float32), -1, disc / disc.sum(), borderType=cv2.BORDER_REFLECT))


def motion_blur(face: np.ndarray, length: float, angle: float = 0.0) -> np.ndarray:
    """A face that moved ``length`` px at ``angle`` degrees during the exposure."""
    k = int(math.ceil(length)) | 1
    line = np.zeros((k, k), np.float32)
    line[k // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), angle, length / k)
    line = cv2.warpAffine(line, rot, (k, k))
    return _u8(cv2.filter2D(face.astype(np.float32), -1, line / max(line.sum(), 1e-6), borderType=cv2.BORDER_REFLECT))


# --- resolution and exposure ---------------------------------------------------------------------------
def captured_small(face: np.ndarray, size: float) -> np.ndarray:
    """A face the camera caught at ``size`` px, scaled up to 48 as the engine's crop does."""
    s = max(4, int(round(size)))
    small = cv2.resize(face, (s, s), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)


def exposure(face: np.ndarray, gain: float) -> np.ndarray:
    """Linear exposure change: ``gain`` < 1 underexposes (fewer grey levels left), > 1 clips highlights."""
    return _u8(face.astype(np.float32) * gain)


def gamma(face: np.ndarray, g: float) -> np.ndarray:
    """A darker (``g`` > 1) or brighter (< 1) tone curve."""
    return _u8(255.0 * (face.astype(np.float32) / 255.0) ** g)


# --- geometry and occlusion --------------------------------------------------------------------------
def _affine(face: np.ndarray, m: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(face, m, (SIDE, SIDE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def rotate(face: np.ndarray, degrees: float) -> np.ndarray:
    return _affine(face, cv2.getRotationMatrix2D((SIDE / 2 - 0.5, SIDE / 2 - 0.5), degrees, 1.0))


def zoom(face: np.ndarray, scale: float) -> np.ndarray:
    """A crop box ``1/scale`` times the size (scale > 1 zooms in, cutting the face's edges)."""
    return _affine(face, cv2.getRotationMatrix2D((SIDE / 2 - 0.5, SIDE / 2 - 0.5), 0.0, scale))


def shift(face: np.ndarray, pixels: float) -> np.ndarray:
    """A crop box ``pixels`` off to the right and down."""
    return _affine(face, np.float32([[1, 0, -pixels], [0, 1, -pixels]]))


def occlude(face: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """A grey square of ``size`` px somewhere on the face (a hand, a microphone)."""
    s = int(round(size))
    y, x = rng.integers(0, SIDE - s + 1, 2)
    out = face.copy()
    out[y:y + s, x:x + s] = 128
    return out


# --- the kinds, for the suite and for training -------------------------------------------------------
RANDOM_KINDS = {"gaussian_noise", "poisson_noise", "occlude"}
KINDS: Dict[str, Callable] = {
    "gaussian_noise": gaussian_noise, "poisson_noise": poisson_noise, "jpeg": jpeg, "webp": webp,
    "gaussian_blur": gaussian_blur, "defocus": defocus, "motion_blur": motion_blur,
    "small": captured_small, "exposure": exposure, "gamma": gamma,
    "rotate": rotate, "zoom": zoom, "shift": shift, "occlude": occlude,
}


def apply(face: np.ndarray, kind: str, value: float, rng: np.random.Generator) -> np.ndarray:
    fn = KINDS[kind]
    return fn(face, value, rng) if kind in RANDOM_KINDS else fn(face, value)


@dataclass(frozen=True)
class Draw:
    """How training draws one kind's setting: uniformly in [low, high] (log-uniformly when ``log``);
    integer kinds are rounded and skip ``avoid`` (the suite's own settings)."""
    low: float
    high: float
    log: bool = False
    integer: bool = False
    avoid: Tuple[float, ...] = ()

    def sample(self, rng: np.random.Generator) -> float:
        while True:
            u = rng.uniform(math.log(self.low), math.log(self.high)) if self.log else rng.uniform(self.low, self.high)
            v = math.exp(u) if self.log else u
            if not self.integer:
                return v
            v = float(round(v))
            if v not in self.avoid:
                return v


# The photometric kinds a camera adds (geometry is drawn by augment.random_affine, occlusion by
# augment.random_erase). Ranges reach a little past the suite's harshest settings.
TRAINING_DRAWS: Dict[str, Draw] = {
    "gaussian_noise": Draw(3.0, 32.0),
    "poisson_noise": Draw(8.0, 300.0, log=True),
    "jpeg": Draw(6, 70, integer=True, avoid=(10.0, 30.0)),
    "webp": Draw(3, 60, integer=True, avoid=(5.0, 20.0)),
    "gaussian_blur": Draw(0.4, 2.2),
    "defocus": Draw(0.7, 3.2),
    "motion_blur": Draw(2.0, 11.0),
    "small": Draw(10, 40, integer=True, avoid=(12.0, 16.0, 24.0, 32.0)),
    "exposure": Draw(0.2, 2.2, log=True),
}


def random_degradations(faces: np.ndarray, rng: np.random.Generator, p: float,
                        second: float = 0.3) -> np.ndarray:
    """(N, 48, 48) uint8 -> the same faces, each degraded with probability ``p`` by one kind drawn
    uniformly (and then, with probability ``second``, compressed or noised on top, as a webcam's
    noisy frame is then encoded); the rest unchanged."""
    kinds = sorted(TRAINING_DRAWS)
    out = faces.copy()
    for i in np.flatnonzero(rng.random(len(faces)) < p):
        kind = kinds[rng.integers(len(kinds))]
        face = apply(out[i], kind, TRAINING_DRAWS[kind].sample(rng), rng)
        if rng.random() < second:
            extra = ("jpeg", "webp", "gaussian_noise")[rng.integers(3)]
            face = apply(face, extra, TRAINING_DRAWS[extra].sample(rng), rng)
        out[i] = face
    return out


# --- the evaluation suite ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    name: str
    group: str          # noise, compression, blur, small, exposure, geometry, occlusion, clean
    kind: str = ""
    value: float = 0.0


SUITE: Tuple[Condition, ...] = (
    Condition("clean", "clean"),
    Condition("gaussian noise 8", "noise", "gaussian_noise", 8),
    Condition("gaussian noise 15", "noise", "gaussian_noise", 15),
    Condition("gaussian noise 25", "noise", "gaussian_noise", 25),
    Condition("poisson noise peak 100", "noise", "poisson_noise", 100),
    Condition("poisson noise peak 25", "noise", "poisson_noise", 25),
    Condition("jpeg q30", "compression", "jpeg", 30),
    Condition("jpeg q10", "compression", "jpeg", 10),
    Condition("webp q20", "compression", "webp", 20),
    Condition("webp q5", "compression", "webp", 5),
    Condition("gaussian blur 1.0", "blur", "gaussian_blur", 1.0),
    Condition("gaussian blur 1.5", "blur", "gaussian_blur", 1.5),
    Condition("defocus r2", "blur", "defocus", 2.0),
    Condition("motion blur 7 px", "blur", "motion_blur", 7.0),
    Condition("captured at 32 px", "small", "small", 32),
    Condition("captured at 24 px", "small", "small", 24),
    Condition("captured at 16 px", "small", "small", 16),
    Condition("captured at 12 px", "small", "small", 12),
    Condition("underexposed x0.35", "exposure", "exposure", 0.35),
    Condition("darker gamma 2.2", "exposure", "gamma", 2.2),
    Condition("overexposed x1.8", "exposure", "exposure", 1.8),
    Condition("rotated 15 deg", "geometry", "rotate", 15.0),
    Condition("zoomed in 20%", "geometry", "zoom", 1.2),
    Condition("zoomed out 20%", "geometry", "zoom", 1 / 1.2),
    Condition("crop offset 5 px", "geometry", "shift", 5.0),
    Condition("occluded 14 px", "occlusion", "occlude", 14.0),
)
# The camera groups whose mean is the suite's headline (the geometric ones cost little to begin with).
CAMERA_GROUPS = ("noise", "compression", "blur", "small")


def degrade_all(faces: np.ndarray, cond: Condition, seed: int) -> np.ndarray:
    """Every face under one condition; the random kinds draw from ``seed`` and the condition's name, so
    a condition's faces are the same on every run and independent of the other conditions."""
    if not cond.kind:
        return faces.copy()
    rng = np.random.default_rng([seed, *cond.name.encode()])
    return np.stack([apply(f, cond.kind, cond.value, rng) for f in faces])


def conditions(names: Sequence[str] = ()) -> Tuple[Condition, ...]:
    if not names:
        return SUITE
    known = {c.name: c for c in SUITE}
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"unknown suite conditions {missing}; known: {sorted(known)}")
    return tuple(known[n] for n in names)
