"""The per-frame checks and the session recorder, on their own."""

import cv2
import numpy as np
import pytest

from emotion.live.guards import TokenBucket, declared_size
from emotion.live.recorder import SessionRecorder, is_reliable, main_face, unreliable_points
from emotion.ml import EMOTIONS
from tests.hostile_media import solid_jpeg, solid_webp, with_stray_byte_before_dqt


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_bucket_allows_a_burst_then_the_sustained_rate():
    clock = Clock()
    bucket = TokenBucket(rate=30, capacity=30, clock=clock)
    assert sum(bucket.take() for _ in range(100)) == 30
    clock.now += 1.0
    assert sum(bucket.take() for _ in range(100)) == 30
    clock.now += 10.0                       # idle time does not bank more than the burst
    assert sum(bucket.take() for _ in range(100)) == 30
    for _ in range(50):                     # exactly the sustained rate always passes
        clock.now += 1 / 30
        assert bucket.take()


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp"])
def test_declared_size_reads_the_header(ext):
    img = np.zeros((37, 53, 3), np.uint8)
    data = cv2.imencode(ext, img)[1].tobytes()
    assert declared_size(data) == (53, 37)
    assert declared_size(data[:30]) in (None, (53, 37))     # a cut header is never misread


def test_declared_size_reads_what_the_old_parser_missed():
    """A WebP (not parsed before) and a JPEG with a junk byte before a segment (the old parser gave
    up there, and the frame was decoded at 7000 x 7000): libjpeg skips such bytes, and so does Pillow."""
    assert declared_size(solid_webp(16383, 16383)) == (16383, 16383)
    assert declared_size(with_stray_byte_before_dqt(solid_jpeg(7000, 7000))) == (7000, 7000)


def test_declared_size_gives_up_on_other_bytes():
    assert declared_size(b"") is None
    assert declared_size(b"GIF89a....") is None
    assert declared_size(b"\xff\xd8\xff\xe0\x00") is None
    assert declared_size(b"\xff\xd8garbage" * 10) is None
    assert declared_size(cv2.imencode(".bmp", np.zeros((8, 8, 3), np.uint8))[1].tobytes()) is None


def test_live_frames_are_refused_before_decoding(settings):
    from emotion.live.inference import check_frame_header
    from emotion.ml import MediaError

    settings.FER_LIVE_MAX_FRAME_PIXELS = 1920 * 1080
    for data, words in [(solid_webp(16383, 16383), "16383x16383 pixels is over the live limit"),
                        (with_stray_byte_before_dqt(solid_jpeg(7000, 7000)), "7000x7000 pixels is over the live limit"),
                        (cv2.imencode(".bmp", np.zeros((8, 8, 3), np.uint8))[1].tobytes(), "not a JPEG, PNG or WebP")]:
        with pytest.raises(MediaError, match=words):
            check_frame_header(data)
    check_frame_header(solid_jpeg(1920, 1080))


def face(box, dominant, p=0.9, reliable=True):
    probs = {e: (p if e == dominant else (1 - p) / 6) for e in EMOTIONS}
    return {"id": 1, "box": box, "probs": probs, "dominant": dominant, "reliable": reliable}


def test_the_recorder_counts_time_per_emotion_of_the_largest_face():
    rec = SessionRecorder(start=100.0, timeline_step=0.5)
    small = face([0, 0, 10, 10], "sad")
    for i in range(10):                      # 1 s happy, 10 frames/s
        rec.received()
        rec.analysed(100.0 + i * 0.1, [small, face([50, 50, 60, 60], "happy")], latency_ms=20)
    for i in range(10, 15):                  # then 0.5 s angry
        rec.received()
        rec.analysed(100.0 + i * 0.1, [face([50, 50, 60, 60], "angry")], latency_ms=40)
    rec.received()
    rec.analysed(103.0, [], latency_ms=10)   # no face: counts as a frame, not as time in an emotion
    f = rec.fields()
    assert f["frames_received"] == f["frames_analysed"] == 16 and f["frames_with_faces"] == f["frames_reliable"] == 15
    assert f["emotion_share"]["happy"] == pytest.approx(0.9 / 1.4, abs=1e-3)
    assert f["emotion_share"]["angry"] == pytest.approx(0.5 / 1.4, abs=1e-3)
    assert f["avg_latency_ms"] == pytest.approx((10 * 20 + 5 * 40 + 10) / 16, abs=0.01)
    assert f["avg_fps"] == pytest.approx(16 / 3.0, abs=0.01)
    # at most one point per 0.5 s; the frame without a face ends the line with a gap point
    assert [p["t"] for p in f["timeline"]] == [0.0, 0.5, 1.0, 3.0] and f["timeline"][-1]["p"] is None
    assert f["timeline"][0]["p"][EMOTIONS.index("happy")] == 0.9


def test_a_long_pause_is_not_counted_as_time_in_an_emotion():
    rec = SessionRecorder(start=0.0)
    rec.analysed(0.0, [face([0, 0, 9, 9], "sad")], 1)
    rec.analysed(60.0, [face([0, 0, 9, 9], "sad")], 1)
    rec.analysed(60.1, [face([0, 0, 9, 9], "happy")], 1)
    assert rec.seconds["sad"] == pytest.approx(1.0) and rec.seconds["happy"] == pytest.approx(0.1)


def test_the_timeline_is_capped_and_still_covers_the_whole_session():
    rec = SessionRecorder(start=0.0, timeline_step=0.5, timeline_points=100)
    for i in range(2000):                    # 1000 s at 2 frames/s
        rec.analysed(i * 0.5, [face([0, 0, 9, 9], "neutral")], 1)
    f = rec.fields()
    assert len(f["timeline"]) <= 100
    assert f["timeline"][0]["t"] == 0.0 and f["timeline"][-1]["t"] > 950
    assert f["timeline_step"] > 0.5


def test_main_face_is_the_largest():
    assert main_face([]) is None
    assert main_face([face([0, 0, 5, 5], "sad"), face([0, 0, 6, 6], "fear")])["dominant"] == "fear"


def test_unreliable_frames_are_kept_but_left_out_of_the_shares():
    rec = SessionRecorder(start=0.0, timeline_step=0.5)
    big = [50, 50, 60, 60]
    for i in range(10):                      # 1 s happy, reliable
        rec.analysed(i * 0.1, [face(big, "happy")], 1)
    for i in range(10, 20):                  # 1 s "angry", but the followed face is only tracked
        rec.analysed(i * 0.1, [face(big, "angry", reliable=False)], 1)
    for i in range(20, 25):                  # 0.5 s sad, reliable again
        rec.analysed(i * 0.1, [face(big, "sad")], 1)
    f = rec.fields()
    assert f["frames_with_faces"] == 25 and f["frames_reliable"] == 15
    # the first frame of a session stands for no time: 0.9 s happy, 0.5 s sad, angry not counted at all
    assert f["emotion_share"]["angry"] == 0.0
    assert f["emotion_share"]["happy"] == pytest.approx(0.9 / 1.4, abs=1e-3)
    assert f["emotion_share"]["sad"] == pytest.approx(0.5 / 1.4, abs=1e-3)
    assert sum(f["emotion_share"].values()) == pytest.approx(1, abs=1e-3)
    # the timeline keeps every stretch, flagged: r = 0 where the followed face was unreliable
    assert [(p["t"], p["r"]) for p in f["timeline"]] == [(0.0, 1), (0.5, 1), (1.0, 0), (1.5, 0), (2.0, 1)]
    assert f["timeline"][2]["p"][EMOTIONS.index("angry")] == 0.9
    assert unreliable_points(f["timeline"]) == 2


def test_only_the_followed_face_decides_whether_a_frame_is_reliable():
    rec = SessionRecorder(start=0.0)
    small_reliable = face([0, 0, 10, 10], "happy")
    for i in range(5):
        rec.analysed(i * 0.1, [small_reliable, face([50, 50, 60, 60], "sad", reliable=False)], 1)
    f = rec.fields()
    assert f["frames_with_faces"] == 5 and f["frames_reliable"] == 0
    assert f["emotion_share"] == {}          # no reliable time: no shares, rather than shares of nothing
    assert [p["r"] for p in f["timeline"]] == [0]


def test_faces_and_timelines_without_the_flag_count_as_reliable():
    old_face = {"id": 1, "box": [0, 0, 9, 9], "probs": dict.fromkeys(EMOTIONS, 1 / 7), "dominant": "neutral"}
    assert is_reliable(old_face) and is_reliable({**old_face, "reliable": None})
    assert not is_reliable({**old_face, "reliable": False})
    assert unreliable_points([{"t": 0, "p": [0] * 7}, {"t": 0.5, "p": [0] * 7, "r": 1}]) == 0
    assert unreliable_points(None) == 0 and unreliable_points([{"t": 0, "p": [0] * 7, "r": 0}]) == 1


def test_the_timeline_keeps_the_followed_faces_confidence_when_the_engine_sends_it():
    rec = SessionRecorder(start=0.0, timeline_step=0.0)
    face = {"box": [0, 0, 50, 50], "probs": {e: 1 / 7 for e in EMOTIONS}, "dominant": "happy", "reliable": True}
    rec.analysed(0.1, [{**face, "confidence": 0.61234}], 5.0)
    rec.analysed(0.2, [face], 5.0)                      # an engine without the field
    first, second = rec.fields()["timeline"]
    assert first["c"] == 0.612 and "c" not in second
