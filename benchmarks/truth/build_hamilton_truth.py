"""Build the face ground truth of the shared clip: tests/data/hamilton_truth.json (see hamilton_truth.md).

    .venv/bin/python benchmarks/truth/build_hamilton_truth.py [--mp-python /tmp/gtvenv/bin/python]
        [--sheets test-artifacts/hamilton_sheets] [--report]

What it does, offline:

1. detects faces on every frame of ../shared/media/short_hamilton_clip.mp4 with OpenCV's Haar frontal
   cascade at the engine's settings (1.1, 5 neighbours, 40 px) and relaxed (1.05, 3, 24 px), the
   profile cascade (both ways round), and MediaPipe's BlazeFace (full-range and short-range models on
   the frame, short-range on 2x-upscaled overlapping tiles, for small faces);
2. maps the BlazeFace boxes to Haar framing with per-model linear fits (centre offset and side, as
   multiples of BlazeFace's side) measured on faces where both detectors agree: over the clip first,
   then refitted per person on its own frames (framing depends on pose);
3. follows each person listed in PERSONS from a seed box, frame by frame inside its shot, fusing the
   detections that overlap the person's previous box; fills gaps by linear interpolation (holding the
   box at the ends of a person's span), smooths the centre and side over 5 frames;
4. applies the hand corrections in HAND (explicit, commented), clips boxes to the frame, applies the
   scope rule's size limit, and writes the JSON.

MediaPipe is NOT a project dependency. It runs in a separate virtual environment, called as a
subprocess of this script (``--mediapipe-worker``); only mediapipe 0.10.14-era wheels ship the
BlazeFace models (newer ones download them), so:

    python3.11 -m venv /tmp/gtvenv && /tmp/gtvenv/bin/pip install "mediapipe==0.10.14" "opencv-python-headless<5"

Detections are cached under --cache (test-artifacts/, ignored by git), so later runs (new hand
corrections) need neither mediapipe nor the Haar passes again. ``--sheets DIR`` renders contact
sheets (every frame, truth boxes, person ids, scope) to check by eye; ``--report`` prints the truth's
statistics, the histogram distance at the cuts, and how plain Haar on every frame scores against it.
Never imported by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIDEO = ROOT.parent / "shared" / "media" / "short_hamilton_clip.mp4"
OUT = ROOT / "tests" / "data" / "hamilton_truth.json"
CACHE = ROOT / "test-artifacts" / "hamilton_truth_cache"

CUTS = [20, 82, 211]          # verified: histogram distance and by eye (see the .md)
MIN_SCORED_SIDE = 40          # the scope rule: a scored face is at least this wide (Haar framing)

# --- the persons -----------------------------------------------------------------------------------
# One entry per physical person per shot: ids are NOT shared across shots (the performer is 1 in the
# wide shot and 9 in the close shot), since a tracker must start afresh at a cut. ``seed`` is
# (frame, x, y, side): a rough Haar-framing box on one frame the person is followed from, forwards and
# backwards. ``span`` limits the frames the person is labelled on (default: the shot). ``sources``
# are the detections that may place the box; ``maps`` overrides a BlazeFace model's mapping ("raw": the
# box as BlazeFace gives it, for a profile, which has no Haar framing). ``gap``: the longest run of frames
# without a detection that is interpolated (longer runs stay unlabelled unless HAND fills them).
PERSONS = [
    # shot 1, frames 0-19: wide stage shot
    dict(id=1, scope="scored", seed=(0, 517, 44, 55), desc="performer at the microphone, wide shot (about 55 px)"),
    dict(id=2, scope="ignore", seed=(0, 55, 185, 32), desc="pianist, three-quarter view, about 31 px: too small"),
    # shot 2, frames 20-81: close profile, blurred audience behind (every face here is ignore)
    dict(id=3, scope="ignore", seed=(40, 315, 146, 209), sources=("ms",), maps={"ms": "raw"}, span=(20, 45),
         desc="audience member in close profile (then turned away, partly out of frame)"),
    dict(id=4, scope="ignore", seed=(40, 152, 52, 72), desc="blurred background man, hand at his chin", gap=12),
    dict(id=5, scope="ignore", seed=(59, 305, 170, 80), span=(44, 81), gap=12,
         desc="blurred background woman in yellow"),
    dict(id=6, scope="ignore", seed=(52, 464, 128, 84), span=(51, 69), gap=12, sources=("haar", "mf"),
         desc="blurred background woman, red dress (found by Haar on frames 51, 52, 59)"),
    dict(id=7, scope="ignore", seed=(53, 390, 165, 70), span=(51, 72), gap=12,
         desc="blurred background head, grey-haired, between the women in yellow and in red"),
    dict(id=8, scope="ignore", seed=(79, 300, 78, 70), span=(76, 81), gap=12,
         desc="blurred background man, top middle"),
    # shot 3, frames 82-210: the performer close, hands and microphone across the face
    dict(id=9, scope="scored", seed=(100, 189, 85, 109), desc="performer, close shot"),
    # shot 4, frames 211-274: the audience laughing
    dict(id=10, scope="scored", seed=(211, 29, 64, 66), desc="woman laughing, left, slightly out of focus"),
    dict(id=11, scope="scored", seed=(211, 147, 94, 69),
         desc="older woman laughing, three-quarter view (both eyes visible, about 45-50 degrees)"),
    dict(id=12, scope="ignore", seed=(211, 297, 40, 82), sources=("mf", "mt", "prof", "haar"),
         desc="man in near profile, hand at his chin (far eye hidden)"),
    dict(id=13, scope="ignore", seed=(211, 350, 80, 104), sources=("mf", "mt", "ms", "haar"),
         desc="woman in near profile, right of him (far eye hardly visible)"),
    dict(id=14, scope="ignore", seed=None, desc="blurred background woman, top left, half hidden (placed by hand)"),
    dict(id=15, scope="ignore", seed=None,
         desc="blurred background man at the right edge, cut by the frame (placed by hand)"),
]

# --- hand corrections ------------------------------------------------------------------------------
# (first frame, last frame, person, action, value): action "box" sets the box [x, y, w, h] on those
# frames (a person with no seed is placed this way), "keys" sets boxes interpolated linearly between
# keyframes {frame: [x, y, w, h]} (read off gridded, brightened zooms), "drop" removes the person's
# box, "scope" sets its scope.
P3 = lambda nx, ny: [nx - 10, ny - 70, 200, 210]  # noqa: E731  person 3 from his nose tip (profile, turned away)
HAND = [
    # shot 2: the profile man after BlazeFace loses him (46-81): he turns away and slides to the right
    # edge (52-66: only his nose and beard are in the frame), then back (68-81, cheek and ear)
    (46, 81, 3, "keys", {46: P3(423, 159), 48: P3(486, 116), 50: P3(503, 104), 52: P3(548, 80), 54: P3(565, 86),
                         56: P3(588, 80), 58: P3(596, 75), 60: P3(595, 69), 62: P3(587, 69), 64: P3(584, 81),
                         66: P3(566, 93), 68: P3(535, 105), 70: P3(515, 111), 72: P3(473, 149), 74: P3(460, 143),
                         76: P3(446, 186), 78: P3(439, 210), 80: P3(438, 222), 81: P3(438, 225)}),
    # shot 4's two background faces no detector finds: static shot, one box each, from 2x zooms
    (211, 274, 14, "box", [14, 14, 56, 70]),
    (211, 274, 15, "box", [590, 50, 50, 80]),
]


# --- detection -------------------------------------------------------------------------------------
def read_frames(video):
    import cv2

    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def mediapipe_worker(video, out):
    """Runs in the separate mediapipe venv: BlazeFace boxes and scores on every frame."""
    import cv2
    import mediapipe as mp
    import numpy as np

    cv2.setNumThreads(1)
    fd = mp.solutions.face_detection
    models = {"mf": fd.FaceDetection(model_selection=1, min_detection_confidence=0.2),
              "ms": fd.FaceDetection(model_selection=0, min_detection_confidence=0.2)}

    def detect(model, rgb, ox=0, oy=0, s=1.0):
        h, w = rgb.shape[:2]
        found = []
        for d in model.process(rgb).detections or []:
            b = d.location_data.relative_bounding_box
            found.append([ox + b.xmin * w / s, oy + b.ymin * h / s, b.width * w / s, b.height * h / s,
                          float(d.score[0])])
        return found

    result = []
    for frame in read_frames(video):
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        r = {"mf": detect(models["mf"], rgb), "ms": detect(models["ms"], rgb), "mt": []}
        H, W = rgb.shape[:2]
        th, tw = H // 2, W // 2
        for ty in (0, H // 4, H - th):            # 3x3 overlapping half-size tiles, upscaled 2x
            for tx in (0, W // 4, W - tw):
                tile = cv2.resize(np.ascontiguousarray(rgb[ty:ty + th, tx:tx + tw]), None, fx=2, fy=2,
                                  interpolation=cv2.INTER_CUBIC)
                r["mt"] += detect(models["ms"], tile, tx, ty, 2.0)
        result.append(r)
    Path(out).write_text(json.dumps(result))


def haar_passes(frames):
    import cv2
    import numpy as np

    cv2.setNumThreads(1)        # a shared 2-core machine
    load = lambda f: cv2.CascadeClassifier(cv2.data.haarcascades + f)  # noqa: E731
    front, profile = load("haarcascade_frontalface_default.xml"), load("haarcascade_profileface.xml")
    out = {"default": [], "haar": [], "prof": []}
    for frame in frames:
        g = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        W = g.shape[1]
        boxes = lambda c, img, sf, n, m: [[int(v) for v in b] for b in np.asarray(  # noqa: E731
            c.detectMultiScale(img, scaleFactor=sf, minNeighbors=n, minSize=(m, m))).reshape(-1, 4)]
        out["default"].append(boxes(front, g, 1.1, 5, 40))      # the engine's settings: the framing
        out["haar"].append(boxes(front, g, 1.05, 3, 24))        # relaxed
        flipped = [[W - x - w, y, w, h] for x, y, w, h in boxes(profile, cv2.flip(g, 1), 1.05, 3, 24)]
        out["prof"].append(boxes(profile, g, 1.05, 3, 24) + flipped)
    return out


def detections(video, frames, cache, mp_python):
    cache.mkdir(parents=True, exist_ok=True)
    haar_file, mp_file = cache / "haar.json", cache / "blazeface.json"
    if not haar_file.exists():
        haar_file.write_text(json.dumps(haar_passes(frames)))
    if not mp_file.exists():
        if not mp_python or not Path(mp_python).exists():
            sys.exit(f"no BlazeFace cache at {mp_file} and no mediapipe python ({mp_python}); see the docstring")
        subprocess.run([mp_python, __file__, "--mediapipe-worker", str(video), str(mp_file)], check=True)
    return json.loads(haar_file.read_text()), json.loads(mp_file.read_text())


# --- boxes -----------------------------------------------------------------------------------------
def iou(a, b):
    """As emotion.ml.tracking.iou; not imported, so the mediapipe worker (run in another venv) imports
    nothing from the project."""
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def to_cs(b):
    """(x, y, w, h) -> (cx, cy, side)."""
    return (b[0] + b[2] / 2, b[1] + b[3] / 2, (b[2] + b[3]) / 2)


def from_cs(cx, cy, s):
    return [cx - s / 2, cy - s / 2, s, s]


def pairs_ratios(pairs):
    """(haar box, other box) pairs -> rows of (dx / side, dy / side, side ratio), the other's side."""
    rows = []
    for h, m in pairs:
        (hx, hy, hs), (mx, my, ms) = to_cs(h), to_cs(m)
        rows.append(((hx - mx) / ms, (hy - my) / ms, hs / ms))
    return rows


def fit_map(pairs):
    """Haar framing from another detector's box, linear in centre and size and scale-free (framing does
    not depend on the face's size): cx = cx' + a s', cy = cy' + b s', side = c s'. a, b and c are the
    medians over the pairs (robust to Haar's occasional odd box)."""
    import numpy as np

    rows = np.array(pairs_ratios(pairs))
    med = np.median(rows, 0)
    return dict(a=round(float(med[0]), 4), b=round(float(med[1]), 4), c=round(float(med[2]), 4), pairs=len(rows),
                median_abs_dev=[round(float(v), 4) for v in np.median(np.abs(rows - med), 0)])


def apply_map(fit, b):
    if fit == "raw":
        return list(b[:4])
    cx, cy, s = to_cs(b)
    return from_cs(cx + fit["a"] * s, cy + fit["b"] * s, fit["c"] * s)


def global_pairs(haar_default, raw, min_score=0.6):
    """Faces found by both the engine's Haar and the other detector (IoU >= 0.3, best match)."""
    pairs = []
    for hb, mb in zip(haar_default, raw):
        for b in mb:
            if len(b) > 4 and b[4] < min_score:
                continue
            best = max(hb, key=lambda h: iou(h, b), default=None)
            if best is not None and iou(best, b) >= 0.3:
                pairs.append((best, b))
    return pairs


# --- following the persons -------------------------------------------------------------------------
WEIGHTS = {"haar": 1.0, "mf": 1.0, "mt": 0.5, "ms": 0.5, "prof": 0.5}
MAPPED = ("mf", "ms", "mt")
PERSON_FIT_MIN_PAIRS = 8


def shot_of(frame):
    starts = [0] + CUTS
    i = max(k for k, s in enumerate(starts) if s <= frame)
    return starts[i], (starts[i + 1] - 1 if i + 1 < len(starts) else N_FRAMES - 1)


def measure(raw, frame, prev, sources, maps):
    """The fused box of the detections (at most one per source, the best overlap) that match prev.
    Returns (box, {source: raw box}) or None."""
    best = {}
    pcx, pcy, ps = to_cs(prev)
    for src in sources:
        for r in raw[src][frame]:
            b = apply_map(maps[src], r) if src in MAPPED else list(r[:4])
            cx, cy, s = to_cs(b)
            ov = iou(prev, b)
            near = abs(cx - pcx) <= 0.25 * ps and abs(cy - pcy) <= 0.25 * ps and 0.75 <= s / ps <= 1.33
            if (ov >= 0.4 or near) and (src not in best or ov > best[src][0]):
                best[src] = (ov, b, r)
    if not best:
        return None
    wsum = sum(WEIGHTS[s] for s in best)
    fused = [sum(WEIGHTS[s] * to_cs(b)[k] for s, (_, b, _) in best.items()) / wsum for k in range(3)]
    return from_cs(*fused), {s: r for s, (_, _, r) in best.items()}


def follow(person, raw, maps):
    f0, x, y, s = person["seed"]
    first, last = person.get("span") or shot_of(f0)
    sources = person.get("sources", ("haar",) + MAPPED)
    meas = {}
    for direction in (1, -1):
        prev = [x, y, s, s]
        f = f0 if direction == 1 else f0 - 1
        while first <= f <= last:
            m = measure(raw, f, prev, sources, maps)
            if m is not None:
                meas[f] = m
                prev = m[0]
            f += direction
    return first, last, meas


def person_maps(person, raw, global_maps):
    """Follow once with the global fits, then refit each BlazeFace model on this person's own frames
    where Haar (relaxed) found it too: framing depends on pose (a three-quarter face is boxed
    differently by the two detectors), so a person's own fit is better where it has the pairs."""
    maps = dict(global_maps)
    for src, how in person.get("maps", {}).items():
        maps[src] = how
    _, _, meas = follow(person, raw, maps)
    fits = {}
    for src in MAPPED:
        if src in person.get("maps", {}):
            continue
        pairs = [(m[1]["haar"], m[1][src]) for m in meas.values() if "haar" in m[1] and src in m[1]]
        if len(pairs) >= PERSON_FIT_MIN_PAIRS:
            maps[src] = fits[src] = fit_map(pairs)
    return maps, fits


def fill_and_smooth(first, last, meas, gap, window=5):
    """Interpolate gaps up to ``gap`` frames, hold the ends, then a centred moving average."""
    import numpy as np

    known = sorted(meas)
    if not known:
        return {}
    series = {}
    for f in range(first, last + 1):
        if f in meas:
            series[f] = to_cs(meas[f][0])
            continue
        before = [k for k in known if k < f]
        after = [k for k in known if k > f]
        if before and after:
            a, b = before[-1], after[0]
            if b - a - 1 > gap:
                continue
            t = (f - a) / (b - a)
            ca, cb = to_cs(meas[a][0]), to_cs(meas[b][0])
            series[f] = tuple(ca[k] + t * (cb[k] - ca[k]) for k in range(3))
        elif before and f - before[-1] <= gap:
            series[f] = to_cs(meas[before[-1]][0])
        elif after and after[0] - f <= gap:
            series[f] = to_cs(meas[after[0]][0])
    smooth = {}
    for f in series:
        near = [series[k] for k in range(f - window // 2, f + window // 2 + 1) if k in series]
        smooth[f] = tuple(float(np.mean([n[k] for n in near])) for k in range(3))
    return {f: from_cs(*v) for f, v in smooth.items()}


def clip(b):
    x0, y0 = max(0.0, b[0]), max(0.0, b[1])
    x1, y1 = min(float(WIDTH), b[0] + b[2]), min(float(HEIGHT), b[1] + b[3])
    return [x0, y0, x1 - x0, y1 - y0]


def build(haar, mp):
    raw = {"haar": haar["haar"], "prof": haar["prof"]}
    for k in MAPPED:
        # tiles make some big false boxes around small faces; BlazeFace below 0.5 is mostly noise
        raw[k] = [[b for b in fr[k] if b[4] >= 0.5 and (k != "mt" or b[2] < 130)] for fr in mp]
    global_maps = {k: fit_map(global_pairs(haar["default"], raw[k])) for k in MAPPED}
    boxes, how, fits = {}, {}, {"global (vs the engine's Haar)": global_maps}
    for p in PERSONS:
        if p["seed"] is None:
            continue
        maps, own = person_maps(p, raw, global_maps)
        if own:
            fits[f"person {p['id']}"] = own
        first, last, meas = follow(p, raw, maps)
        for f, b in fill_and_smooth(first, last, meas, p.get("gap", 6)).items():
            boxes[(f, p["id"])] = b
            how[(f, p["id"])] = sorted(meas[f][1]) if f in meas else ["interpolated"]
    scope = {p["id"]: p["scope"] for p in PERSONS}
    frame_scope = {}
    for first, last, pid, action, value in HAND:
        for f in range(first, last + 1):
            if action == "box":
                boxes[(f, pid)] = [float(v) for v in value]
                how[(f, pid)] = ["hand"]
            elif action == "keys":
                keys = sorted(value)
                a = max(k for k in keys if k <= f)
                b = min(k for k in keys if k >= f)
                t = 0.0 if a == b else (f - a) / (b - a)
                boxes[(f, pid)] = [va + t * (vb - va) for va, vb in zip(value[a], value[b])]
                how[(f, pid)] = ["hand keys"]
            elif action == "drop":
                boxes.pop((f, pid), None)
            elif action == "scope":
                frame_scope[(f, pid)] = value
            else:
                raise ValueError(action)
    faces = []
    for (f, pid), b in sorted(boxes.items()):
        c = clip(b)
        x, y = int(round(c[0])), int(round(c[1]))
        w, h = min(int(round(c[2])), WIDTH - x), min(int(round(c[3])), HEIGHT - y)
        if w < 8 or h < 8:
            continue
        sc = frame_scope.get((f, pid), scope[pid])
        if sc == "scored" and (w < MIN_SCORED_SIDE or c[2] * c[3] < 0.5 * b[2] * b[3]):
            sc = "ignore"                           # too small, or mostly outside the frame
        faces.append(dict(frame=f, person=pid, box=[x, y, w, h], scope=sc))
    return faces, fits, how


# --- checks ----------------------------------------------------------------------------------------
def hist_distances(frames):
    import cv2

    hists = []
    for fr in frames:
        h = cv2.calcHist([cv2.cvtColor(fr, cv2.COLOR_BGR2GRAY)], [0], None, [64], [0, 256])
        hists.append(h / h.sum())
    return [0.0] + [float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA)) for a, b in zip(hists, hists[1:])]


def render_sheets(frames, faces, out_dir, per_sheet=20, cols=4, scale=0.5):
    import cv2
    import numpy as np

    out_dir.mkdir(parents=True, exist_ok=True)
    by_frame = {}
    for f in faces:
        by_frame.setdefault(f["frame"], []).append(f)
    pal = [(0, 0, 255), (0, 200, 0), (255, 0, 0), (0, 255, 255), (255, 0, 255), (255, 255, 0), (0, 128, 255),
           (255, 128, 0), (128, 0, 255), (0, 255, 128), (200, 200, 200), (128, 128, 255), (255, 128, 128)]

    def tile(i):
        im = np.clip(255.0 * (frames[i] / 255.0) ** 0.6, 0, 255).astype(np.uint8)   # brighter: dark audience
        for f in by_frame.get(i, []):
            x, y, w, h = f["box"]
            c = pal[f["person"] % len(pal)]
            if f["scope"] == "scored":
                cv2.rectangle(im, (x, y), (x + w - 1, y + h - 1), c, 3)
            else:                                   # dashed: ignore
                pts = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
                for (ax, ay), (bx, by) in zip(pts, pts[1:]):
                    n = max(1, int(max(abs(bx - ax), abs(by - ay)) / 8))
                    for k in range(0, n, 2):
                        p0 = (int(ax + (bx - ax) * k / n), int(ay + (by - ay) * k / n))
                        p1 = (int(ax + (bx - ax) * (k + 1) / n), int(ay + (by - ay) * (k + 1) / n))
                        cv2.line(im, p0, p1, c, 2)
            label = f"{f['person']}{'' if f['scope'] == 'scored' else 'i'}"
            cv2.putText(im, label, (x + 3, y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3)
            cv2.putText(im, label, (x + 3, y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, c, 2)
        im = cv2.resize(im, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.rectangle(im, (0, 0), (38, 15), (0, 0, 0), -1)
        cv2.putText(im, str(i), (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        return im

    for start in range(0, len(frames), per_sheet):
        tiles = [tile(i) for i in range(start, min(start + per_sheet, len(frames)))]
        while len(tiles) % cols:
            tiles.append(np.zeros_like(tiles[0]))
        sheet = np.vstack([np.hstack(tiles[r:r + cols]) for r in range(0, len(tiles), cols)])
        cv2.imwrite(str(out_dir / f"sheet_{start:03d}.png"), sheet)


def render_zooms(frames, faces, out_dir, side=128, cols=10, per_sheet=80):
    """Per person: the region around its box (1.8x the box), upscaled, box drawn: checks the framing."""
    import cv2
    import numpy as np

    out_dir.mkdir(parents=True, exist_ok=True)
    by_person = {}
    for f in faces:
        by_person.setdefault(f["person"], []).append(f)
    for pid, fs in sorted(by_person.items()):
        tiles = []
        for f in fs:
            x, y, w, h = f["box"]
            cx, cy, r = x + w / 2, y + h / 2, 0.9 * max(w, h)
            x0, y0 = int(cx - r), int(cy - r)
            pad = int(r) + 2
            big = cv2.copyMakeBorder(frames[f["frame"]], pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(40, 40, 40))
            crop = big[y0 + pad:y0 + pad + int(2 * r), x0 + pad:x0 + pad + int(2 * r)].copy()
            k = side / crop.shape[0]
            crop = cv2.resize(crop, (side, side), interpolation=cv2.INTER_CUBIC)
            top = max(float(np.percentile(crop, 99)), 1.0)     # brighten dark crops to see the face
            crop = np.clip(crop.astype(np.float32) * min(255.0 / top, 4.0), 0, 255).astype(np.uint8)
            c = (0, 255, 0) if f["scope"] == "scored" else (0, 200, 255)
            cv2.rectangle(crop, (int((x - x0) * k), int((y - y0) * k)),
                          (int((x + w - x0) * k), int((y + h - y0) * k)), c, 1)
            cv2.putText(crop, f"{f['frame']} {w}px", (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
            tiles.append(crop)
        for n, start in enumerate(range(0, len(tiles), per_sheet)):
            part = tiles[start:start + per_sheet]
            while len(part) % cols:
                part.append(np.zeros_like(part[0]))
            sheet = np.vstack([np.hstack(part[r:r + cols]) for r in range(0, len(part), cols)])
            cv2.imwrite(str(out_dir / f"person_{pid:02d}_{n}.png"), sheet)


def report(truth_path, frames):
    sys.path.insert(0, str(ROOT))
    from emotion.ml.faces import DetectorConfig, FaceDetector, to_gray
    from emotion.training.trackeval import load_truth, score_tracks

    truth = load_truth(truth_path)
    stats = {}
    for (s, e) in truth.shots():
        fs = [f for f in truth.faces if s <= f.frame <= e]
        stats[f"{s}-{e}"] = dict(scored=sum(f.scope == "scored" for f in fs),
                                 ignore=sum(f.scope == "ignore" for f in fs), persons=sorted({f.person for f in fs}))
    d = hist_distances(frames)
    cuts = {c: round(d[c], 4) for c in truth.cuts}
    elsewhere = max((v, i) for i, v in enumerate(d) if i not in truth.cuts)
    det = FaceDetector(DetectorConfig())          # the engine's defaults: 1.1, 5, 40
    reported = [(i, k, b) for i, fr in enumerate(frames) for k, b in enumerate(det.detect(to_gray(fr)))]
    base = score_tracks(truth, reported, cuts_found=[])
    print(json.dumps(dict(faces_per_shot=stats, scored=sum(f.scope == "scored" for f in truth.faces),
                          ignore=sum(f.scope == "ignore" for f in truth.faces),
                          hist_distance_at_cuts=cuts,
                          hist_distance_max_elsewhere=dict(value=round(elsewhere[0], 4), frame=elsewhere[1]),
                          haar_baseline={k: base[k] for k in ("scored_faces", "recalled", "recall", "reported_boxes",
                                                              "false_boxes", "false_box_rate")},
                          haar_baseline_per_shot=base["per_shot"]), indent=1))


def main():
    global N_FRAMES, WIDTH, HEIGHT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", type=Path, default=VIDEO)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--mp-python", default=os.environ.get("GT_MP_PYTHON", "/tmp/gtvenv/bin/python"))
    ap.add_argument("--sheets", type=Path, help="render contact sheets of the truth into this folder")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--mediapipe-worker", nargs=2, metavar=("VIDEO", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mediapipe_worker:
        return mediapipe_worker(*args.mediapipe_worker)

    frames = read_frames(args.video)
    N_FRAMES, (HEIGHT, WIDTH) = len(frames), frames[0].shape[:2]
    haar, mp = detections(args.video, frames, args.cache, args.mp_python)
    assert len(haar["haar"]) == len(mp) == N_FRAMES, "detections do not cover the clip"
    faces, fits, how = build(haar, mp)
    persons = {str(p["id"]): dict(scope=p["scope"], desc=p["desc"]) for p in PERSONS}
    truth = dict(
        video=args.video.name, frames=N_FRAMES, width=WIDTH, height=HEIGHT, fps=29.97, cuts=CUTS,
        box_convention="[x, y, w, h] ints, full-frame pixels, in the framing of OpenCV's Haar frontal-face cascade "
                       "(haarcascade_frontalface_default.xml, as detectMultiScale returns it: a square from about the "
                       "top of the eyebrows to just under the mouth); boxes of faces cut by the frame edge are clipped",
        scope_rule="scored: both eyes visible (frontal to about 45 degrees of yaw), at least 40 px wide, mostly inside "
                   "the frame; a hand or microphone over it keeps it scored. ignore: any other face (profile, under "
                   "40 px, mostly outside the frame, blurred background audience)",
        person_ids="one id per physical person per shot; ids are not shared across shots",
        persons=persons,
        made_by="benchmarks/truth/build_hamilton_truth.py (see tests/data/hamilton_truth.md)",
        blazeface_to_haar_fits=fits,
        faces=faces,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(truth, indent=None, separators=(",", ":"))
    # one face per line: readable diffs
    text = text.replace('{"frame"', '\n{"frame"')
    args.out.write_text(text + "\n")
    print(f"{args.out}: {len(faces)} faces, {sum(f['scope'] == 'scored' for f in faces)} scored")
    for k, v in fits.items():
        print(f"fit {k}: {v}")
    (args.cache / "how.json").write_text(json.dumps({f"{f}:{p}": v for (f, p), v in sorted(how.items())}))
    if args.sheets:
        render_sheets(frames, faces, args.sheets)
        render_zooms(frames, faces, args.sheets / "zoom")
        print(f"sheets in {args.sheets}")
    if args.report:
        report(args.out, frames)


N_FRAMES, WIDTH, HEIGHT = 275, 640, 360

if __name__ == "__main__":
    main()
