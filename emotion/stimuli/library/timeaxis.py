"""Where things sit on a stimulus' time axis as the page draws it (templates/stimuli/_marker_axis.html):
the ticks, and each marker's span as a share of the duration, overlapping markers on lanes of their own.
Laid out here so that the axis reads without script; static/stimuli/stimulus.js only adds seeking and
the playhead."""

from __future__ import annotations

from emotion.web.context_processors import FER_EMOTIONS

TICK_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
MAX_TICKS = 10


def clock(seconds: float) -> str:
    """12.5 s as "12.5", 95 s as "1:35": what a player's clock shows."""
    if seconds < 60:
        return f"{seconds:g}"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _percent(x: float) -> str:
    return f"{x * 100:.4f}"


def ticks(duration: float) -> list:
    """[{"at": percent, "label"}] every round step, at most MAX_TICKS + 1 of them, 0 included."""
    if duration <= 0:
        return []
    step = next((s for s in TICK_STEPS if duration / s <= MAX_TICKS), TICK_STEPS[-1] * (duration // 6000 + 1))
    out, i = [], 0
    while i * step <= duration + 1e-9:
        out.append({"at": _percent(i * step / duration), "label": clock(round(i * step, 3))})
        i += 1
    return out


def lanes(markers, duration: float) -> tuple:
    """(spans, lane count): each marker with its left and width (percent of the axis), its lane (the
    first one free when it starts, so overlapping markers stack) and its colour from the site's palette
    of non-emotion series."""
    palette = FER_EMOTIONS["series"]
    ends, spans = [], []
    for i, m in enumerate(sorted(markers, key=lambda m: (m.start, m.end))):
        lane = next((k for k, end in enumerate(ends) if end <= m.start), len(ends))
        if lane == len(ends):
            ends.append(m.end)
        ends[lane] = max(m.end, m.start + duration * 0.01)      # a very short marker still takes room
        whole = duration or 1
        spans.append({"marker": m, "left": _percent(m.start / whole), "width": _percent((m.end - m.start) / whole),
                      "lane": lane, "colour": palette[i % len(palette)]})
    return spans, max(1, len(ends))
