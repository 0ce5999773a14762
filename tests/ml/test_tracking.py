import cv2
import numpy as np

from emotion.ml.tracking import HOLD_SECONDS, FaceTracker, centre_distance, iou


def test_iou_and_distance():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9
    assert centre_distance((0, 0, 10, 10), (10, 0, 10, 10)) == 1.0


def _frame():
    return np.zeros((200, 300), np.uint8)


def _located(tr):
    return {t.id: t.box for t in tr.located}


def _scan(tr, t, detections):
    """A frame with a full scan: known faces are looked for first (on a blank frame: not found)."""
    tr.follow(_frame(), t)
    tr.update(_frame(), t, detections)


def test_ids_are_kept_for_moving_faces_and_new_faces_get_new_ids():
    tr = FaceTracker()
    _scan(tr, 0.0, [(10, 10, 50, 50), (200, 20, 50, 50)])
    assert _located(tr) == {1: (10, 10, 50, 50), 2: (200, 20, 50, 50)}
    _scan(tr, 0.1, [(205, 24, 50, 50), (14, 12, 50, 50)])   # both moved a little
    assert _located(tr) == {1: (14, 12, 50, 50), 2: (205, 24, 50, 50)}
    _scan(tr, 0.2, [(14, 12, 50, 50), (205, 24, 50, 50), (100, 120, 40, 40)])
    assert sorted(_located(tr)) == [1, 2, 3]


def test_fast_move_matches_by_centre():
    tr = FaceTracker()
    _scan(tr, 0.0, [(10, 10, 60, 60)])
    _scan(tr, 0.1, [(40, 10, 60, 60)])             # IoU 0.33 .. still one face
    assert list(_located(tr)) == [1]
    _scan(tr, 0.2, [(68, 20, 60, 60)])             # IoU 0.29, centre 0.49 of a side away
    assert list(_located(tr)) == [1]


def _textured():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 50, (240, 320), np.uint8)
    # a face is smooth at the template's scale: blurred noise, not pixel noise
    face = cv2.GaussianBlur(rng.integers(0, 255, (60, 60), np.uint8), (0, 0), 3)
    face = cv2.normalize(face, None, 0, 255, cv2.NORM_MINMAX)
    frame[50:110, 80:140] = face
    return frame, face, rng


def test_follow_moves_the_box_with_the_face_and_says_it_was_tracked():
    frame, face, rng = _textured()
    tr = FaceTracker()
    tr.update(frame, 0.0, [(80, 50, 60, 60)])
    tr.follow(frame, 0.0, lambda gray, box, reach: box)          # found twice: a face the template may hold
    moved = rng.integers(0, 50, (240, 320), np.uint8)
    moved[58:118, 92:152] = face                          # the face moved by (12, 8)
    assert tr.follow(moved, 0.1) == []
    (track,) = tr.located
    x, y, w, h = track.box
    assert abs(x - 92) <= 2 and abs(y - 58) <= 2 and (w, h) == (60, 60)
    assert track.source == "tracked"
    blank = np.zeros_like(frame)                          # face gone: not located, the box stays put
    assert tr.follow(blank, 0.2) == [] and tr.located == []
    assert tr.tracks[0].box == (x, y, w, h)


def test_a_box_only_the_template_holds_expires_after_the_hold():
    frame, _, _ = _textured()
    tr = FaceTracker()
    tr.update(frame, 0.0, [(80, 50, 60, 60)])
    tr.follow(frame, 0.0, lambda gray, box, reach: box)
    t = 0.0
    while t + 0.1 <= HOLD_SECONDS + 1e-9:                # the same image: the template keeps matching
        t += 0.1
        assert tr.follow(frame, t) == [] and [x.source for x in tr.located] == ["tracked"]
    assert tr.follow(frame, t + 0.1) == [1]              # past the hold without the detector: ended
    assert tr.located == [] and tr.tracks == []


def test_a_face_the_detector_finds_near_its_box_is_kept_for_ever():
    tr = FaceTracker()
    tr.update(_frame(), 0.0, [(10, 10, 50, 50)])
    for i in range(1, 40):                               # far past the hold: confirmed on every frame
        assert tr.follow(_frame(), i * 0.1, lambda gray, box, reach: box) == []
        assert [(x.id, x.source) for x in tr.located] == [(1, "detected")]


def test_two_tracks_on_one_face_become_one_keeping_the_older_id():
    tr = FaceTracker()
    tr.update(_frame(), 0.0, [(10, 10, 50, 50), (100, 10, 50, 50)])
    # the detector near box 2 finds the face of box 1 (they moved together)
    ended = tr.follow(_frame(), 0.1, lambda gray, box, reach: (12, 10, 50, 50))
    assert ended == [2] and list(_located(tr)) == [1]


def test_clear_ends_every_track_and_ids_are_not_reused():
    tr = FaceTracker()
    tr.update(_frame(), 0.0, [(10, 10, 50, 50)])
    assert tr.clear() == [1]
    tr.update(_frame(), 0.1, [(10, 10, 50, 50)])
    assert list(_located(tr)) == [2]


def test_a_scan_does_not_move_a_box_the_detector_just_found_near_the_face():
    tr = FaceTracker()
    _scan(tr, 0.0, [(10, 10, 50, 50)])
    tr.follow(_frame(), 0.1, lambda gray, box, reach: (12, 10, 50, 50))
    tr.update(_frame(), 0.1, [(14, 14, 52, 52)])
    assert _located(tr) == {1: (12, 10, 50, 50)}


def test_a_face_found_once_is_not_held_by_the_template():
    frame, _, _ = _textured()
    tr = FaceTracker()
    tr.update(frame, 0.0, [(80, 50, 60, 60)])            # one detection: maybe a false one
    assert tr.follow(frame, 0.03) == [] and tr.located == []   # not reported, waiting for the detector
    assert tr.follow(frame, HOLD_SECONDS + 0.01) == [1] and tr.tracks == []
