"""Drawing results onto frames: a box per face, its id and shown emotion, and probability bars.
An unreliable result (results.py) is drawn grey, with a thin box and a question mark.

Text is sized from the frame's height (at least TEXT_SHARE of it) and written in white on a dark
backdrop, so a label stays readable on any picture and after a video is scaled down to a page; the
emotion's colour is carried by the box, a swatch before the label and the bars.
"""

from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from .labels import EMOTION_COLOURS, EMOTIONS, UNRELIABLE_COLOUR, bgr
from .results import FaceResult

# BGR colours per emotion, from the one palette the site's charts use too (labels.py).
COLOURS = {e: bgr(c) for e, c in EMOTION_COLOURS.items()}
UNRELIABLE = bgr(UNRELIABLE_COLOUR)
FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_SHARE = 0.035          # label text height, as a share of the frame's height
MIN_TEXT_PX = 12            # ... but never smaller than this
WHITE, LIGHT_GREY = (255, 255, 255), (215, 215, 215)
BACKDROP_OPACITY = 0.7
# Blurred faces: the box is cut into this many cells across its smaller side before blurring, which
# keeps a face's overall tone and removes every feature a person could be recognised by.
BLUR_CELLS = 6


def text_px(frame_height: int) -> int:
    """Height of label text, in pixels, for a frame this high."""
    return max(MIN_TEXT_PX, int(round(TEXT_SHARE * frame_height)))


def _font_scale(height_px: int) -> float:
    # getTextSize's height is proportional to the scale: measure once at 1.0
    (_, unit), _ = cv2.getTextSize("Hg", FONT, 1.0, 1)
    return height_px / unit


def _backdrop(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """Darken a rectangle in place (clipped to the image), for text to sit on."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 > x0 and y1 > y0:
        img[y0:y1, x0:x1] = (img[y0:y1, x0:x1] * (1 - BACKDROP_OPACITY)).astype(img.dtype)


def _text(img, text: str, x: int, y: int, scale: float, thick: int, colour) -> None:
    cv2.putText(img, text, (x, y), FONT, scale, colour, thick, cv2.LINE_AA)


def blur_faces(frame: np.ndarray, faces: Iterable[FaceResult]) -> np.ndarray:
    """A copy of ``frame`` with each face box pixelated and blurred beyond recognition; the pixels
    outside the boxes are left as they are."""
    out = frame.copy()
    H, W = out.shape[:2]
    for face in faces:
        x, y, w, h = face.box
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        roi = out[y0:y1, x0:x1]
        side = min(x1 - x0, y1 - y0)
        cells = (max(1, round(BLUR_CELLS * (x1 - x0) / side)), max(1, round(BLUR_CELLS * (y1 - y0) / side)))
        coarse = cv2.resize(roi, cells, interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(coarse, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(blocky, (0, 0), max(1.0, side / (2 * BLUR_CELLS)))
    return out


Rect = tuple  # (x0, y0, x1, y1), x1 and y1 exclusive


def _overlap(a: Rect, b: Rect) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _inside(r: Rect, W: int, H: int) -> bool:
    return r[0] >= 0 and r[1] >= 0 and r[2] <= W and r[3] <= H


def _clamp(x: int, y: int, w: int, h: int, W: int, H: int) -> Rect:
    x, y = min(max(0, x), max(0, W - w)), min(max(0, y), max(0, H - h))
    return (x, y, x + w, y + h)


def _place(size: tuple, candidates: list, taken: list, W: int, H: int) -> Rect:
    """The candidate corner (in order of preference) whose rectangle covers the least of what is already
    drawn; one that fits the frame wins over one that must be pushed back inside it."""
    w, h = size
    best, best_cost = None, None
    for rank, (x, y) in enumerate(candidates):
        fits = _inside((x, y, x + w, y + h), W, H)
        r = _clamp(x, y, w, h, W, H)
        cost = (sum(_overlap(r, t) for t in taken), not fits, rank)
        if best_cost is None or cost < best_cost:
            best, best_cost = r, cost
    return best


def layout(boxes: list, label_sizes: list, panel_sizes: list, gap: int, W: int, H: int) -> tuple:
    """Where each face's label and probability panel go, so that none covers another face, its label
    or its panel where the frame leaves room (faces side by side used to have one face's panel drawn
    over the other's label). Labels are placed first, above or below their box; then panels, beside
    the box (right, left), below or above it. ``gap`` is the box lines' width. Returns (label rects,
    panel rects)."""
    box_rects = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    taken = list(box_rects)
    labels = []
    for (x, y, w, h), (lw, lh) in zip(boxes, label_sizes):
        r = _place((lw, lh), [(x, y - gap - lh), (x, y + h + gap), (x, y + gap)], taken, W, H)
        labels.append(r)
        taken.append(r)
    panels, gap = [], gap + 2
    for (x, y, w, h), (pw, ph), lab in zip(boxes, panel_sizes, labels):
        below, above = max(y + h, lab[3]) + gap, min(y, lab[1]) - gap - ph
        r = _place((pw, ph), [(x + w + gap, y), (x - gap - pw, y), (x, below), (x, above),
                              (x + w + gap, y + h - ph), (x - gap - pw, y + h - ph)], taken, W, H)
        panels.append(r)
        taken.append(r)
    return labels, panels


def draw_faces(frame: np.ndarray, faces: Iterable[FaceResult], blur: bool = False) -> np.ndarray:
    faces = list(faces)
    out = blur_faces(frame, faces) if blur else frame.copy()
    H, W = out.shape[:2]
    th = text_px(H)
    scale = _font_scale(th)
    thick = max(1, th // 9)
    pad = max(2, th // 4)
    row = th + pad
    names_w = max(cv2.getTextSize(e[:3], FONT, scale, thick)[0][0] for e in EMOTIONS)
    box_thick = [max(2, th // 6) if f.reliable else max(1, th // 12) for f in faces]
    texts, label_sizes, panel_sizes = [], [], []
    for face in faces:
        shown = float(face.probs[EMOTIONS.index(face.dominant)])
        texts.append(f"#{face.face_id} {face.dominant} {shown:.0%}" + ("" if face.reliable else " ?"))
        (tw, _), base = cv2.getTextSize(texts[-1], FONT, scale, thick)
        label_sizes.append((th + pad + tw + 2 * pad, th + base + 2 * pad))
        bar_w = max(3 * th, min(6 * th, face.box[2]))
        panel_sizes.append((pad + names_w + pad + bar_w + pad, len(EMOTIONS) * row + pad))
    labels, panels = layout([f.box for f in faces], label_sizes, panel_sizes, max(box_thick, default=2), W, H)
    # an unreliable face: grey marks and light grey text, whatever its emotion
    marks = [COLOURS[f.dominant] if f.reliable else UNRELIABLE for f in faces]
    inks = [WHITE if f.reliable else LIGHT_GREY for f in faces]

    for face, bt, mark in zip(faces, box_thick, marks):
        x, y, w, h = face.box
        cv2.rectangle(out, (x, y), (x + w, y + h), mark, bt)
    # panels before labels: where the frame leaves no room for both, a label stays readable
    for face, (px, py, px1, py1), ink in zip(faces, panels, inks):
        _backdrop(out, px, py, px1, py1)
        bar_w = px1 - px - 3 * pad - names_w
        for i, (name, p) in enumerate(zip(EMOTIONS, face.probs)):
            ry = py + pad + i * row
            bar_colour = COLOURS[name] if face.reliable else UNRELIABLE
            _text(out, name[:3], px + pad, ry + th - 1, scale, thick, ink)
            bx = px + 2 * pad + names_w
            cv2.rectangle(out, (bx, ry + th // 5), (bx + bar_w, ry + th - 1), (70, 70, 70), -1)
            if p > 0:
                cv2.rectangle(out, (bx, ry + th // 5), (bx + max(1, int(bar_w * float(p))), ry + th - 1), bar_colour, -1)
    for text, (lx, ly, lx1, ly1), mark, ink in zip(texts, labels, marks, inks):
        _backdrop(out, lx, ly, lx1, ly1)
        cv2.rectangle(out, (lx + pad, ly + pad), (lx + pad + th - 1, ly + pad + th - 1), mark, -1)
        _text(out, text, lx + 2 * pad + th, ly + pad + th, scale, thick, ink)
    return out
