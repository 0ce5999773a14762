"""Probing one upload in a process of its own, so that a hostile file can at worst kill this process.

    python -m emotion.research.analyses.probe PATH --kind image|video [--max-image-pixels N] [--max-video-pixels N]
                                     [--max-seconds S] [--memory-mb MB]

prints one JSON line: the media facts (``{"ok": true, "kind", "width", "height", "fps", "frame_count",
"duration", "offset"}``), or why the file is refused (``{"ok": false, "code", "message", ...}``, codes
``over_limit``, ``too_long``, ``unreadable``, ``memory``). Sizes are read from the headers first
(emotion.ml.media: Pillow for images, PyAV for videos) and a file over a limit is refused before any
pixel is decoded; only then is the file decoded the way the engine will read it (OpenCV: the whole
image, or a video's first frame), to be sure it can be. The address space is capped (RLIMIT_AS, and
RLIMIT_CPU) once the libraries are loaded, so a decoder that would allocate more fails here, not in
daphne (the site runs this from emotion.research.analyses.validation, with a wall-clock timeout as well).

Imports nothing from Django: the limits come as arguments.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from typing import Optional


def _vm_bytes() -> Optional[int]:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def cap_memory(extra_mb: float, cpu_seconds: Optional[int] = None) -> None:
    """From now on this process may map at most ``extra_mb`` more than it has mapped already (the
    interpreter and the libraries, loaded before the cap)."""
    current = _vm_bytes() or 0
    limit = current + int(extra_mb * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def probe(path: str, kind: str, max_image_pixels: int, max_video_pixels: int,
          max_seconds: Optional[float] = None) -> dict:
    from emotion.ml import media
    from emotion.ml.video_out import start_offset

    try:
        if kind == "image":
            with open(path, "rb") as fh:
                data = fh.read()
            header = media.image_header(data, path)
            media.check_pixels(header.width, header.height, max_image_pixels, path)
            image = media.decode_image(data, path, max_pixels=max_image_pixels)
            return {"ok": True, "kind": "image", "width": image.shape[1], "height": image.shape[0]}
        header = media.video_header(path, max_video_pixels)
        if max_seconds and header.duration and header.duration > max_seconds:
            return {"ok": False, "code": "too_long", "duration": header.duration,
                    "message": f"the video lasts {header.duration / 60:.1f} min"}
        info = media.probe_video(path, max_video_pixels)
        return {"ok": True, "kind": "video", "width": info.width, "height": info.height, "fps": info.fps,
                "frame_count": info.frame_count, "duration": info.duration, "offset": start_offset(path)}
    except media.OverLimitError as exc:
        return {"ok": False, "code": "over_limit", "message": _without_path(str(exc)),
                "width": exc.width, "height": exc.height, "limit": exc.limit}
    except media.MediaError as exc:
        return {"ok": False, "code": "unreadable", "message": _without_path(str(exc))}
    except MemoryError:
        return {"ok": False, "code": "memory", "message": "decoding it needed more memory than allowed"}


def _without_path(message: str) -> str:
    return message.split(": ", 1)[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--kind", choices=["image", "video"], required=True)
    parser.add_argument("--max-image-pixels", type=int, default=None)
    parser.add_argument("--max-video-pixels", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=None)
    parser.add_argument("--memory-mb", type=float, default=1536)
    parser.add_argument("--cpu-seconds", type=int, default=120)
    args = parser.parse_args(argv)

    # Load everything first: the cap is on what the file makes the decoders allocate. emotion.ml
    # first, so that OpenCV's own limit is set before OpenCV loads.
    import av  # noqa: F401, E402
    import cv2  # noqa: E402

    from emotion.ml import MAX_IMAGE_PIXELS, MAX_VIDEO_PIXELS, media  # noqa: F401

    cv2.setNumThreads(1)
    cap_memory(args.memory_mb, args.cpu_seconds)
    answer = probe(args.path, args.kind, args.max_image_pixels or MAX_IMAGE_PIXELS,
                   args.max_video_pixels or MAX_VIDEO_PIXELS, args.max_seconds)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
