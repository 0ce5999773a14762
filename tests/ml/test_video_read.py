"""Every decoded video frame is held to the limit and to the first frame's size (emotion/ml/video_read.py),
and frames come out as OpenCV gave them (the engine read videos through OpenCV before)."""

import shutil
import subprocess

import pytest

from emotion.ml import MAX_VIDEO_PIXELS, media  # noqa: I001 - first: sets OpenCV's limit before cv2 loads
from emotion.ml.video_read import FrameSizeChangedError
from tests.conftest import CLIP, need, opencv_frames
from tests.hostile_media import mixed_size_avi

import cv2  # noqa: E402,I001
import numpy as np  # noqa: E402

SMALL = (320, 400)


def test_a_huge_frame_after_ordinary_ones_is_refused_by_the_decoder(tmp_path):
    """Issue 18: an AVI whose header and first frame say 320x400, and whose frame 10 is 12000x12000.
    The header and the first frame pass; decoding stops at frame 10 with the limit named, the frame
    never allocated (the decoder is given the limit) and never converted."""
    path = mixed_size_avi(tmp_path / "mixed.avi", [SMALL] * 10 + [(12000, 12000)] + [SMALL] * 2)
    info = media.probe_video(path)
    assert (info.width, info.height, info.frame_count) == (*SMALL, 13)
    seen = []
    with pytest.raises(media.OverLimitError) as err:
        for index, frame in media.iter_frames(path, 1, info):
            seen.append((index, frame.shape))
    assert seen == [(i, (400, 320, 3)) for i in range(10)]
    assert str(err.value).endswith(f"frame 10 is 12000x12000 pixels (144,000,000), over the limit of "
                                   f"{MAX_VIDEO_PIXELS:,} pixels")
    assert (err.value.width, err.value.height, err.value.limit) == (12000, 12000, MAX_VIDEO_PIXELS)


def test_frames_not_analysed_are_checked_too(tmp_path):
    path = mixed_size_avi(tmp_path / "mixed.avi", [SMALL] * 3 + [(12000, 12000)] + [SMALL] * 4)
    with pytest.raises(media.OverLimitError, match="frame 3 is 12000x12000"):
        list(media.iter_frames(path, step=4))


def test_a_frame_size_that_changes_under_the_limit_is_refused(tmp_path):
    path = mixed_size_avi(tmp_path / "changes.avi", [SMALL] * 4 + [(640, 480)] + [SMALL] * 4)
    with pytest.raises(FrameSizeChangedError, match="changes at frame 4, from 320x400 to 640x480 pixels"):
        list(media.iter_frames(path))


def test_the_first_frame_over_the_limit_is_refused_by_the_probe(tmp_path):
    path = mixed_size_avi(tmp_path / "first.avi", [SMALL, SMALL])
    with pytest.raises(media.OverLimitError, match="320x400 pixels"):
        media.probe_video(path, max_pixels=320 * 400 - 1)


def test_frames_are_the_pixels_opencv_gave():
    frames = [f for i, f in media.iter_frames(need(CLIP)) if i < 30]
    assert len(frames) == 30
    assert all(np.array_equal(a, b) for a, b in zip(frames, opencv_frames(CLIP, 30)))
    info = media.probe_video(CLIP)
    cap = cv2.VideoCapture(str(CLIP))
    assert (info.frame_count, info.fps) == (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), cap.get(cv2.CAP_PROP_FPS))
    cap.release()


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_rotated_video_stands_upright_as_in_opencv(tmp_path, degrees):
    """A phone's portrait video: its pictures are stored sideways with a display matrix."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: apt-get install -y ffmpeg (see README)")
    path = tmp_path / f"rotated{degrees}.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(need(CLIP)), "-frames:v", "10", "-an", "-c", "copy",
                    "-metadata:s:v", f"rotate={degrees}", str(path)], check=True)
    info = media.probe_video(path)
    first = next(media.iter_frames(path, 1, info))[1]
    expected = opencv_frames(path, 1)[0]
    assert (info.width, info.height) == (expected.shape[1], expected.shape[0])
    assert np.array_equal(first, expected)
