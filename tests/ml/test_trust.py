"""Trust in the video readings, on the real clip against its ground truth (tests/data/hamilton_truth.json):
cuts, ids, tracker-only boxes, frame steps, recall and false boxes, and a near tie that must not flicker."""

import cv2
import numpy as np
import pytest

from emotion.ml import EMOTIONS
from emotion.ml.media import read_image
from emotion.ml.quality import is_reliable
from emotion.training.trackeval import load_truth, score_tracks
from emotion.ml.tracking import HOLD_SECONDS, iou
from tests.conftest import CLIP, MEDIA, ROOT, need

TRUTH = ROOT / "tests" / "data" / "hamilton_truth.json"


@pytest.fixture(scope="module")
def truth():
    return load_truth(TRUTH)


def _run(engine, step):
    stream = engine.stream()
    frames = [(i, t, faces) for i, t, _, faces in engine.iter_video(need(CLIP), frame_step=step, stream=stream)]
    return frames, stream.cut_frames


@pytest.fixture(scope="module")
def step1(engine):
    return _run(engine, 1)


@pytest.fixture(scope="module")
def step3(engine):
    return _run(engine, 3)


def _score(truth, run):
    frames, cuts = run
    reported = [(i, f.face_id, f.box) for i, _, faces in frames for f in faces]
    return score_tracks(truth, reported, [i for i, _, _ in frames], cuts)


def test_the_clips_real_cuts_are_found_and_nothing_else(truth, step1, step3):
    assert step1[1] == truth.cuts == [20, 82, 211]
    res = _score(truth, step3)                     # every third frame: found on the first frame after
    assert res["cuts_missed"] == [] and res["false_cuts"] == []


def test_no_id_crosses_a_cut(truth, step1):
    frames, _ = step1
    shot_of = {}
    for i, _, faces in frames:
        shot = sum(i >= c for c in truth.cuts)
        for f in faces:
            assert shot_of.setdefault(f.face_id, shot) == shot, f"id {f.face_id} seen in two shots"


def test_tracker_only_boxes_expire_after_the_hold(step1, step3):
    for frames, _ in (step1, step3):
        last_detected = {}
        tracked = 0
        for _, t, faces in frames:
            for f in faces:
                if f.source == "detected":
                    last_detected[f.face_id] = t
                else:
                    tracked += 1
                    assert t - last_detected[f.face_id] <= HOLD_SECONDS + 1e-9
        assert tracked                              # the clip has faces only the tracker holds


def test_recall_false_boxes_and_ids_against_the_ground_truth(truth, step1):
    res = _score(truth, step1)
    assert res["recall"] >= 0.98, res
    assert res["false_box_rate"] <= 0.01, res
    assert res["id_switches"] == 0, res


def test_steps_1_and_3_find_the_same_faces_on_the_frames_they_share(step1, step3):
    one = {i: faces for i, _, faces in step1[0]}
    pairs = [(one[i], faces) for i, _, faces in step3[0]]
    n = sum(len(a) + len(b) for a, b in pairs)
    agree = sum(any(iou(x.box, y.box) >= 0.5 for y in b) for a, b in pairs for x in a) \
        + sum(any(iou(x.box, y.box) >= 0.5 for x in a) for a, b in pairs for y in b)
    assert n > 150 and agree / n >= 0.93          # 0.95 measured: see benchmarks/results/engine.json


def test_every_result_says_how_far_it_can_be_trusted(step1):
    faces = [f for _, _, fs in step1[0] for f in fs]
    assert {f.source for f in faces} == {"detected", "tracked"}
    for f in faces:
        assert f.reliable == is_reliable(f.source, f.face_size, f.sharpness, f.brightness, f.noise, f.confidence)
        assert f.face_size == round((f.box[2] * f.box[3]) ** 0.5)
    assert 0 < sum(f.reliable for f in faces) < len(faces)


def test_a_near_tie_does_not_flicker(engine):
    """A still portrait whose two best emotions are close, streamed with small shifts: the argmax
    flips often, the shown label (with hysteresis) does not."""
    img = read_image(need(MEDIA / "biden.jpg"))
    img = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)     # 485x1102
    rng = np.random.default_rng(0)
    stream = engine.stream()
    shown, top, ids = [], [], set()
    for _ in range(600):
        dx, dy = rng.integers(-3, 4, 2)
        moved = cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), img.shape[1::-1],
                               borderMode=cv2.BORDER_REPLICATE)
        # the portrait's face is the largest box (at 640 px the scan also finds a false one on the chin)
        face = max(stream.process(moved), key=lambda f: f.face_size)
        ids.add(face.face_id)
        shown.append(face.dominant)
        top.append(EMOTIONS[int(np.argmax(face.probs))])

    def flips_per_100(labels):
        return 100 * sum(a != b for a, b in zip(labels, labels[1:])) / (len(labels) - 1)

    assert len(ids) == 1                           # one track throughout
    # v1.1's plain argmax flipped 4.0 times per 100 frames here; v1.2's LSTM holds it (0.0). The shown
    # label must hold either way (the rule itself is tested on a made-up tie in test_sequences_metrics)
    assert flips_per_100(shown) <= min(1, flips_per_100(top))


def test_the_lstm_counts_seconds_not_frames(engine, monkeypatch):
    """A face seen at 10 frames/s goes through the LSTM as if seen at 30 (engine.MAX_LSTM_STEPS): the
    same still photo fed for 0.4 s takes as many LSTM steps and reads the same at either rate, and a
    gap longer than the cap counts only the cap."""
    from emotion.ml.engine import MAX_LSTM_STEPS, NOMINAL_FPS
    img = cv2.imread(str(MEDIA / "obama.jpg"))
    calls = []
    step = engine.temporal_step
    monkeypatch.setattr(engine, "temporal_step", lambda *a: calls.append(1) or step(*a))

    def feed(times):
        stream, faces = engine.stream(), None
        calls.clear()
        for i, t in enumerate(times):
            faces = stream.process(img, frame=i, t=t)
        assert len(faces) == 1
        return faces[0], len(calls)

    at_10, n10 = feed([i / 10 for i in range(5)])
    at_30, n30 = feed([i / NOMINAL_FPS for i in range(13)])
    assert n10 == n30 == 13
    np.testing.assert_allclose(at_10.probs, at_30.probs, atol=2e-3)
    assert at_10.dominant == at_30.dominant
    _, n = feed([0.0, 5.0])                            # a long gap counts as the cap
    assert n == 1 + MAX_LSTM_STEPS
