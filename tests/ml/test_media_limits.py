"""Sizes read from headers and refused before decoding; OpenCV's own limit in force in every process.

The review found OpenCV's limit set after OpenCV had loaded (so never applied), and earlier tests did
not notice because their images were larger than OpenCV's default limit (about 1.07 billion pixels)
as well. The image here, 9000 x 9000 (81 million pixels), lies between the project's limit (50
million) and OpenCV's default: only the project's limit can refuse it.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emotion.ml import MAX_IMAGE_PIXELS, MAX_VIDEO_PIXELS
from emotion.ml import media
from tests.hostile_media import (one_frame_video, solid_jpeg, solid_png, solid_webp,
                                 with_stray_byte_before_dqt)

ROOT = Path(__file__).resolve().parents[2]
BETWEEN = (9000, 9000)          # over 50 M pixels, under OpenCV's default of 2^30


def test_the_test_image_lies_between_the_two_limits():
    assert MAX_IMAGE_PIXELS < BETWEEN[0] * BETWEEN[1] < 1 << 30


# Each way the code is loaded in production: the engine alone, daphne (the ASGI application), the
# Celery worker's task module, the analyze command. Whatever the entry point imports first, OpenCV
# must load with the limit set.
ENTRY_POINTS = {
    "engine": "import emotion.ml.media",
    "daphne": "import fersite.asgi",
    "celery": "import django; django.setup(); import fersite.celery, emotion.research.tasks",
    "cli": "import django; django.setup(); import emotion.management.commands.analyze",
}

CHILD = r"""
import os, resource, sys
seen = {}
def hook(event, args):
    if event == "import" and args[0] == "cv2" and "env" not in seen:
        seen["env"] = os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS")
sys.addaudithook(hook)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fersite.settings")
exec(sys.argv[1])
import cv2, json, numpy as np
data = np.fromfile(sys.argv[2], np.uint8)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    outcome = "decoded" if img is not None else "none"
except cv2.error as exc:
    outcome = "refused" if "MAX_IMAGE_PIXELS" in str(exc) else "error: " + str(exc)
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"env_at_cv2_import": seen.get("env"), "outcome": outcome, "grew_mb": grew}))
"""


@pytest.fixture(scope="module")
def between_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("limits") / "between.png"
    path.write_bytes(solid_png(*BETWEEN))
    return path


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_opencv_refuses_an_image_over_our_limit_before_allocating_it(entry, between_png):
    """OpenCV itself (cv2.imdecode, no check of ours in front) refuses the 81-million-pixel PNG from
    its header: the limit was in the environment when OpenCV loaded. Decoding it would take 243 MB."""
    out = subprocess.run([sys.executable, "-c", CHILD, ENTRY_POINTS[entry], str(between_png)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["env_at_cv2_import"] == str(MAX_IMAGE_PIXELS), got
    assert got["outcome"] == "refused", got
    assert got["grew_mb"] < 100, got


def test_image_headers_give_the_size_of_every_accepted_format():
    for fmt, data in [("png", solid_png(53, 37)), ("webp", solid_webp(53, 37)), ("jpeg", solid_jpeg(53, 37)),
                      ("jpeg", with_stray_byte_before_dqt(solid_jpeg(53, 37)))]:
        assert media.image_header(data) == media.ImageHeader(fmt, 53, 37)
        assert media.decode_image(data).shape == (37, 53, 3)      # and they really decode at that size


def test_jpeg_segments_in_any_order_are_read():
    """Tables after the frame header, and an APP segment between them: the size is still found."""
    jpeg = solid_jpeg(640, 480)
    soi, rest = jpeg[:2], jpeg[2:]
    segments, i = [], 0
    while rest[i + 1] != 0xDA:                     # up to the scan
        length = int.from_bytes(rest[i + 2:i + 4], "big")
        segments.append(rest[i:i + 2 + length])
        i += 2 + length
    app, dqt, sof, dht1, dht2 = segments
    shuffled = soi + sof + app + dht2 + dqt + dht1 + rest[i:]
    assert media.image_header(shuffled) == media.ImageHeader("jpeg", 640, 480)
    assert media.decode_image(shuffled).shape == (480, 640, 3)


@pytest.mark.parametrize("case", ["png 30000x30000", "webp 16383x16383", "jpeg 7000x7000 with a stray byte"])
def test_small_files_claiming_huge_images_are_refused_from_their_header(case):
    data = {"png 30000x30000": lambda: solid_png(30000, 30000, level=1),
            "webp 16383x16383": lambda: solid_webp(16383, 16383),
            "jpeg 7000x7000 with a stray byte": lambda: with_stray_byte_before_dqt(solid_jpeg(7000, 7000))}[case]()
    width, height = map(int, case.split()[1].split("x"))
    header = media.image_header(data)
    assert (header.width, header.height) == (width, height)
    limit = min(MAX_IMAGE_PIXELS, 1920 * 1080)
    started = time.perf_counter()
    with pytest.raises(media.OverLimitError, match=f"{width}x{height} pixels"):
        media.decode_image(data, "upload", max_pixels=limit)
    assert time.perf_counter() - started < 0.5            # refused from the header, nothing decoded


def test_other_bytes_and_broken_headers_are_not_images():
    for data in [b"GIF89a" + b"\0" * 40, b"\xff\xd8\xff\xe0\x00", solid_jpeg(53, 37)[:30], solid_png(53, 37)[:20],
                 b"RIFF\0\0\0\0WEBPVP8X"]:
        with pytest.raises(media.NotDecodableError):
            media.image_header(data)


def test_a_video_frame_over_the_limit_is_refused_from_the_container(tmp_path):
    for ext in ("mov", "mp4"):
        path = one_frame_video(tmp_path / f"huge.{ext}", 16000, 16000)
        assert path.stat().st_size < 1_100_000
        started = time.perf_counter()
        with pytest.raises(media.OverLimitError, match="16000x16000 pixels") as err:
            media.probe_video(path)
        assert (err.value.width, err.value.height, err.value.limit) == (16000, 16000, MAX_VIDEO_PIXELS)
        assert time.perf_counter() - started < 1.0


def test_video_headers_of_ordinary_videos(tmp_path):
    path = one_frame_video(tmp_path / "small.mov", 320, 240)
    header = media.video_header(path)
    assert (header.width, header.height, header.duration, header.fps) == (320, 240, 1.0, 1.0)
    info = media.probe_video(path)
    assert (info.width, info.height, info.frame_count) == (320, 240, 1)
    with pytest.raises(media.OverLimitError):
        media.video_header(path, max_pixels=320 * 240 - 1)


def test_what_ffmpeg_cannot_open_is_no_video(tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 50)
    with pytest.raises(media.NotDecodableError):
        media.video_header(notes)
