"""Real frames for the live tests: the shared photo and clip, encoded as the page encodes them."""

import cv2
import pytest

from tests.conftest import CLIP, MEDIA, need

ALLOWED_ORIGIN = (b"origin", b"http://127.0.0.1:8000")
# Frames of the clip (every 3rd, i.e. 10 frames/s) where the face is big enough to be found at
# 640 px wide; the clip's stage shot holds a small face, unlike a webcam.
CLIP_FIRST, CLIP_STEP = 132, 3


def to_jpeg(bgr, width: int, quality: int = 80) -> bytes:
    h, w = bgr.shape[:2]
    if w != width:
        bgr = cv2.resize(bgr, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """The shared portrait, downscaled to 320 px wide (the page's smallest setting)."""
    return to_jpeg(cv2.imread(str(need(MEDIA / "obama.jpg"))), 320)


@pytest.fixture(scope="session")
def clip_jpegs() -> list:
    """Ten consecutive 10 frames/s frames of the shared clip, 640 px wide."""
    cap = cv2.VideoCapture(str(need(CLIP)))
    frames, index = [], 0
    try:
        while len(frames) < 10:
            ok, frame = cap.read()
            assert ok, "the shared clip ended early"
            if index >= CLIP_FIRST and (index - CLIP_FIRST) % CLIP_STEP == 0:
                frames.append(to_jpeg(frame, 640))
            index += 1
    finally:
        cap.release()
    return frames
