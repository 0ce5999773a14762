import numpy as np

from emotion.ml.tracking import FaceTracker, centre_distance, iou


def test_iou_and_distance():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9
    assert centre_distance((0, 0, 10, 10), (10, 0, 10, 10)) == 1.0


def _frame():
    return np.zeros((200, 300), np.uint8)


def test_ids_are_kept_for_moving_faces_and_new_faces_get_new_ids():
    tr = FaceTracker()
    tracks, _ = tr.update(_frame(), [(10, 10, 50, 50), (200, 20, 50, 50)])
    ids = {t.box: t.id for t in tracks}
    assert sorted(ids.values()) == [1, 2]
    tracks, _ = tr.update(_frame(), [(205, 24, 50, 50), (14, 12, 50, 50)])   # both moved a little
    assert {t.id: t.box for t in tracks} == {1: (14, 12, 50, 50), 2: (205, 24, 50, 50)}
    tracks, _ = tr.update(_frame(), [(14, 12, 50, 50), (205, 24, 50, 50), (100, 120, 40, 40)])
    assert sorted(t.id for t in tracks) == [1, 2, 3]


def test_fast_move_matches_by_centre():
    tr = FaceTracker()
    tr.update(_frame(), [(10, 10, 60, 60)])
    tracks, _ = tr.update(_frame(), [(40, 10, 60, 60)])   # IoU 0.33 .. still one face
    assert [t.id for t in tracks] == [1]
    tracks, _ = tr.update(_frame(), [(68, 20, 60, 60)])   # IoU 0.29, centre 0.49 of a side away
    assert [t.id for t in tracks] == [1]


def test_lost_face_is_dropped_after_misses_and_returns_with_a_new_id():
    tr = FaceTracker(max_misses=2)
    tr.update(_frame(), [(10, 10, 50, 50)])
    for expected in ([], [], [1]):
        _, dropped = tr.update(_frame(), [])
        assert dropped == expected
    tracks, _ = tr.update(_frame(), [(10, 10, 50, 50)])
    assert [t.id for t in tracks] == [2]


def test_follow_moves_the_box_with_the_face():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 50, (240, 320), np.uint8)
    face = rng.integers(0, 255, (60, 60), np.uint8)
    frame[50:110, 80:140] = face
    tr = FaceTracker()
    tr.update(frame, [(80, 50, 60, 60)])
    moved = rng.integers(0, 50, (240, 320), np.uint8)
    moved[58:118, 92:152] = face                          # the face moved by (12, 8)
    (track,) = tr.follow(moved)
    x, y, w, h = track.box
    assert abs(x - 92) <= 2 and abs(y - 58) <= 2 and (w, h) == (60, 60)
    blank = np.zeros_like(frame)                          # face gone: not located, the box stays put
    assert tr.follow(blank) == []
    assert tr.tracks[0].box == (x, y, w, h)


def test_a_face_found_near_its_box_is_not_a_miss():
    tr = FaceTracker(max_misses=1)
    tr.update(_frame(), [(10, 10, 50, 50)])
    for _ in range(4):                                    # the full scan misses it, the local search finds it
        located = tr.follow(_frame(), lambda gray, box: box)
        tracks, dropped = tr.update(_frame(), [])
        assert [t.id for t in located] == [t.id for t in tracks] == [1] and dropped == []
