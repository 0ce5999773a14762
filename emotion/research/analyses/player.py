"""What the timeline page's video player needs to know about the stored original."""

from __future__ import annotations

from emotion.ml.video_out import start_offset

from ..models import Analysis


def video_offset(analysis: Analysis) -> float:
    """Seconds on a browser's clock (video.currentTime) before the first picture of the original,
    which is analysis time 0: a clip whose sound starts before its pictures shows frame 0 late. Read
    from the container's header through the storage API (no copy of the file is made); 0.0 for an
    image, or a file that cannot be read."""
    if analysis.kind != Analysis.Kind.VIDEO or not analysis.file:
        return 0.0
    try:
        with analysis.file.storage.open(analysis.file.name, "rb") as fh:
            return round(start_offset(fh), 4)
    except OSError:
        return 0.0
