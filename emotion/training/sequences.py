"""Synthetic face clips built from still FER2013 faces, for stage 2 and the temporal benchmark.

FER2013 has no video, so a clip is made the way a webcam plus a face detector would degrade a face
from frame to frame: the crop box jitters and rescales, lighting drifts, frames blur, sensor noise,
a hand or object crosses the face for a while, and the detector misses frames (the clip then jumps
ahead in time). The expression changes inside a clip: it is built from one to three faces, joined by
a short cross-fade, and each frame's label is the face that dominates it. The faces of a clip are
different people (FER2013 has no identities): a limitation of the proxy, stated in the model card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import augment


@dataclass
class ClipSpec:
    length: int = 24              # frames the model sees per clip
    max_segments: int = 3         # expression changes: 1 to this many faces per clip
    min_segment: int = 5          # frames
    fade: int = 3                 # cross-fade frames between two expressions (at most)
    miss_rate: float = 0.1        # chance that the detector misses a frame (the clip skips one step)
    jitter_rot: float = 1.5       # degrees per frame (random walk)
    jitter_scale: float = 0.025   # relative box size per frame
    jitter_shift: float = 0.02    # box offset per frame, in half-widths
    blur_rate: float = 0.15       # chance a frame is motion/defocus blurred
    occlusion_rate: float = 0.3   # chance a clip has an occluder crossing the face


def make_clips(faces01: torch.Tensor, labels: torch.Tensor, n: int, g: torch.Generator,
               spec: ClipSpec = ClipSpec()):
    """faces01 (N, 1, 48, 48) in [0, 1], labels (N,) -> clips (n, T, 1, 48, 48) in [0, 1], labels (n, T)."""
    T = spec.length
    keep = _detected_frames(n, T, g, spec)         # (n, T) indices into a raw timeline with missed frames
    src_a, src_b, w, lab = _expression_timeline(labels, keep, g, spec)
    src_a, src_b, w, lab = (torch.gather(v, 1, keep) for v in (src_a, src_b, w, lab))
    frames = torch.lerp(faces01[src_a.flatten()], faces01[src_b.flatten()], w.flatten().view(-1, 1, 1, 1))
    path = _camera_path(n, int(keep.max()) + 1, g, spec)                       # (n, raw, 2, 3)
    path = torch.gather(path, 1, keep.view(n, T, 1, 1).expand(n, T, 2, 3))      # a miss jumps ahead
    frames = augment.warp(frames, path.reshape(-1, 2, 3))
    frames = _lighting(frames.view(n, T, 1, 48, 48), keep, g)
    frames = _blur_some(frames.flatten(0, 1), g, spec.blur_rate)
    frames = _occlude(frames.view(n, T, 1, 48, 48), g, spec)
    noise = torch.rand(n, 1, 1, 1, 1, generator=g) * 0.04
    frames = frames + noise * torch.randn(frames.shape, generator=g)
    return frames.clamp(0, 1), lab


def _detected_frames(n, T, g, spec):
    """Indices of the raw frames the detector found: mostly consecutive, sometimes one skipped."""
    step = 1 + (torch.rand(n, T, generator=g) < spec.miss_rate).long()
    step[:, 0] = 0
    start = torch.randint(0, 3, (n, 1), generator=g)
    return start + step.cumsum(1)


def _expression_timeline(labels, keep, g, spec):
    """Which face(s) each raw frame shows, the blend weight towards the second, and the frame label.

    Change points fall inside each clip's own span of raw frames, at least min_segment apart."""
    n, S = keep.shape[0], spec.max_segments
    raw = int(keep.max()) + 1
    segs = torch.randint(1, S + 1, (n,), generator=g)
    src = torch.randint(0, len(labels), (n, S), generator=g)
    active = torch.arange(1, S).view(1, -1) < segs.view(-1, 1)                    # (n, S-1)
    # uniform positions for the active cuts only: inactive slots sort last
    u = torch.where(active, torch.rand(n, S - 1, generator=g), torch.ones(()))
    u = torch.sort(u, dim=1).values
    first, span = keep[:, :1], keep[:, -1:] - keep[:, :1] + 1
    free = (span - segs.view(-1, 1) * spec.min_segment).clamp_min(0)
    cuts = first + (u * free).long() + spec.min_segment * torch.arange(1, S).view(1, -1)
    t = torch.arange(raw).view(1, -1)
    seg_idx = ((t.unsqueeze(-1) >= cuts.unsqueeze(1)) & active.unsqueeze(1)).sum(-1)  # (n, raw)
    # frames just before a cut fade towards the next face
    next_cut = torch.where(active, cuts, torch.full_like(cuts, 10 ** 6))
    nearest = torch.gather(next_cut, 1, seg_idx.clamp_max(S - 2))
    until = (nearest - t).float()
    fade = torch.randint(0, spec.fade + 1, (n, 1), generator=g)
    w = torch.where((until <= fade) & (until > 0) & (seg_idx < segs.view(-1, 1) - 1),
                    1 - until / (fade.float() + 1), torch.zeros(()))
    src_a = torch.gather(src, 1, seg_idx)
    src_b = torch.gather(src, 1, (seg_idx + 1).clamp_max(S - 1))
    lab = torch.where(w > 0.5, labels[src_b], labels[src_a])
    return src_a, src_b, w, lab


def _camera_path(n, raw, g, spec):
    """(n, raw, 2, 3) crop geometry: a per-clip pose plus a random walk of box jitter per raw frame."""
    def walk(scale):
        steps = torch.randn(n, raw, generator=g) * scale
        return steps.cumsum(1) * 0.6 + torch.randn(n, raw, generator=g) * scale * 0.5
    rot = (torch.rand(n, 1, generator=g) * 2 - 1) * math.radians(10) + walk(math.radians(spec.jitter_rot))
    scale = torch.empty(n, 1).uniform_(0.9, 1.1, generator=g) * torch.exp(walk(spec.jitter_scale))
    tx = (torch.rand(n, 1, generator=g) * 2 - 1) * 0.1 + walk(spec.jitter_shift)
    ty = (torch.rand(n, 1, generator=g) * 2 - 1) * 0.1 + walk(spec.jitter_shift)
    flip = torch.where(torch.rand(n, 1, generator=g) < 0.5, -1.0, 1.0).expand(n, raw)
    cos, sin = torch.cos(rot) / scale, torch.sin(rot) / scale
    row0 = torch.stack([cos * flip, -sin, tx], -1)
    row1 = torch.stack([sin * flip, cos, ty], -1)
    return torch.stack([row0, row1], -2)


def _lighting(frames, keep, g):
    """Gamma and a side-light gradient that drift linearly over the clip."""
    n, T = frames.shape[:2]
    frac = (keep.float() / keep[:, -1:].clamp_min(1)).view(n, T, 1, 1, 1)
    g0, g1 = (torch.rand(2, n, 1, 1, 1, 1, generator=g) * 2 - 1) * 0.35
    gamma = torch.exp(g0 + (g1 - g0) * frac)
    s0, s1 = (torch.rand(2, n, 1, 1, 1, 1, generator=g) * 2 - 1) * 0.25
    ramp = torch.linspace(-1, 1, 48).view(1, 1, 1, 1, 48)
    light = 1 + (s0 + (s1 - s0) * frac) * ramp
    return (frames.clamp_min(1e-4).pow(gamma) * light).clamp(0, 1)


def _blur_some(frames, g, rate):
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    k = (k / k.sum())
    kernel = (k.view(-1, 1) * k.view(1, -1)).view(1, 1, 5, 5)
    blurred = F.conv2d(F.pad(frames, (2, 2, 2, 2), mode="replicate"), kernel)
    pick = (torch.rand(frames.shape[0], 1, 1, 1, generator=g) < rate).float()
    return frames * (1 - pick) + blurred * pick


def _occlude(frames, g, spec):
    """An occluder (flat grey block) that slides across the face during part of the clip."""
    n, T = frames.shape[:2]
    has = torch.rand(n, generator=g) < spec.occlusion_rate
    t0 = torch.randint(0, T, (n,), generator=g)
    dur = torch.randint(3, T // 2 + 1, (n,), generator=g)
    size = torch.randint(12, 26, (n, 2), generator=g)
    p0 = torch.rand(n, 2, generator=g) * 48
    vel = (torch.rand(n, 2, generator=g) * 2 - 1) * 3
    t = torch.arange(T).view(1, T)
    on = has.view(-1, 1) & (t >= t0.view(-1, 1)) & (t < (t0 + dur).view(-1, 1))        # (n, T)
    pos = p0.view(n, 1, 2) + vel.view(n, 1, 2) * (t - t0.view(-1, 1)).unsqueeze(-1)   # (n, T, 2) top-left y,x
    ys = torch.arange(48).view(1, 1, 48, 1)
    xs = torch.arange(48).view(1, 1, 1, 48)
    y0, x0 = pos[..., 0].view(n, T, 1, 1), pos[..., 1].view(n, T, 1, 1)
    mask = (ys >= y0) & (ys < y0 + size[:, 0].view(n, 1, 1, 1)) & (xs >= x0) & \
        (xs < x0 + size[:, 1].view(n, 1, 1, 1)) & on.view(n, T, 1, 1)
    fill = torch.rand(n, 1, 1, 1, generator=g).expand(n, T, 48, 48)
    out = frames.clone()
    out[:, :, 0][mask] = fill[mask]
    return out


# --- video-like clips, built over precomputed CNN outputs ------------------------------------------
#
# The clips above change expression every few frames, and every change of expression is also a change
# of face, so a model learns "the image changed, so the label changed". Real video is the other way
# round: an expression lasts seconds, the face stays while the expression changes, and most image
# changes (pose, light, a hand) keep the label. The clips below are closer to that. Each face is
# first rendered as a short run of ``views`` consecutive degraded frames (``face_views``: the same
# camera jitter, lighting drift, blur, occlusion and noise as above) and passed through the CNN once;
# a clip then walks back and forth over those views, so consecutive frames are near copies, and
# swaps the person now and then for another face with the same expression. FER2013 has no identities,
# so a change of expression still shows another face; the swaps that keep the label are what stop the
# model from treating every change of face as a change of expression.


@dataclass
class VideoSpec:
    views: int = 6                # degraded renderings per face (consecutive frames of one camera path)
    min_segment: int = 40         # frames one expression lasts: about 1.5 to 8 s at 25 frames a second
    max_segment: int = 200
    swap_rate: float = 0.006      # chance per frame that another person with the same expression appears
    hold: float = 0.5             # chance per frame that the camera view does not move


def face_views(faces01: torch.Tensor, views: int, g: torch.Generator, spec: ClipSpec = ClipSpec()):
    """(N, 1, 48, 48) faces in [0, 1] -> (N, views, 1, 48, 48): each face as consecutive frames of a
    webcam clip (no expression change, no missed detection)."""
    if views < 6:
        raise ValueError("face_views renders at least 6 views: an occluder stays on the face for 3 or more")
    n = len(faces01)
    keep = torch.arange(views).view(1, -1).expand(n, views).contiguous()
    frames = faces01.unsqueeze(1).expand(n, views, 1, 48, 48).reshape(-1, 1, 48, 48)
    frames = augment.warp(frames, _camera_path(n, views, g, spec).reshape(-1, 2, 3))
    frames = _lighting(frames.view(n, views, 1, 48, 48), keep, g)
    frames = _blur_some(frames.flatten(0, 1), g, spec.blur_rate)
    frames = _occlude(frames.view(n, views, 1, 48, 48), g, spec)
    noise = torch.rand(n, 1, 1, 1, 1, generator=g) * 0.04
    return (frames + noise * torch.randn(frames.shape, generator=g)).clamp(0, 1)


def video_timelines(labels: np.ndarray, n: int, length: int, rng: np.random.Generator, spec: VideoSpec = VideoSpec()):
    """Which face and which of its views each frame of ``n`` clips of ``length`` frames shows, and the
    frame labels: (n, T) face indices, (n, T) view indices, (n, T) labels."""
    by_class = [np.flatnonzero(labels == c) for c in range(int(labels.max()) + 1)]
    prior = np.array([len(ix) for ix in by_class], float)
    prior /= prior.sum()
    src = np.empty((n, length), np.int64)
    lab = np.empty((n, length), np.int64)
    for i in range(n):
        t, label = 0, -1
        while t < length:
            # the first segment starts part-way through, like a clip cut out of a longer video
            dur = int(rng.integers(spec.min_segment, spec.max_segment + 1))
            if t == 0:
                dur = int(rng.integers(1, dur + 1))
            p = prior.copy()
            if label >= 0:
                p[label] = 0
                p /= p.sum()
            label = int(rng.choice(len(p), p=p))
            end = min(length, t + dur)
            face = int(rng.choice(by_class[label]))
            swaps = np.flatnonzero(rng.random(end - t) < spec.swap_rate)
            for s, e in zip(np.concatenate([[0], swaps]), np.concatenate([swaps, [end - t]])):
                src[i, t + s:t + e] = face
                face = int(rng.choice(by_class[label]))
            lab[i, t:end] = label
            t = end
    moves = np.where(rng.random((n, length)) < spec.hold, 0, rng.choice([-1, 1], size=(n, length)))
    view = np.empty((n, length), np.int64)
    pos = rng.integers(0, spec.views, n)
    period = 2 * (spec.views - 1) if spec.views > 1 else 1
    for t in range(length):
        pos = (pos + moves[:, t]) % period
        view[:, t] = np.where(pos < spec.views, pos, period - pos)       # back and forth over the views
    return src, view, lab
