"""The tracker scoring (emotion/training/trackeval.py) on small synthetic truths, and the integrity of the
committed ground truth of the shared clip (tests/data/hamilton_truth.json)."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

from emotion.training.trackeval import Truth, TruthFace, load_truth, score_tracks

TRUTH_FILE = Path(__file__).resolve().parent.parent / "data" / "hamilton_truth.json"

A, B = (10, 10, 50, 50), (200, 10, 50, 50)       # two far-apart faces


def _truth(frames=10, cuts=(), faces=()):
    return Truth(frames, list(cuts), [TruthFace(*f) for f in faces], {})


def _two_people(frames=10, cuts=()):
    """Person 1 at A and person 2 at B on every frame, both scored."""
    return _truth(frames, cuts, [(f, p, box, "scored") for f in range(frames) for p, box in ((1, A), (2, B))])


def _shift(box, dx):
    return (box[0] + dx, box[1], box[2], box[3])


def test_perfect_tracking():
    truth = _two_people()
    rep = [(f, k, box) for f in range(10) for k, box in ((7, A), (8, B))]
    r = score_tracks(truth, rep)
    assert (r["scored_faces"], r["recalled"], r["recall"]) == (20, 20, 1.0)
    assert (r["reported_boxes"], r["false_boxes"], r["false_box_rate"]) == (20, 0, 0.0)
    assert (r["id_switches"], r["fragmentations"]) == (0, 0)
    assert "cuts_true" not in r
    json.dumps(r)                                # plain types only


def test_misses_loose_boxes_and_false_boxes():
    truth = _two_people(frames=2)
    rep = [
        (0, 1, A),                  # hit
        (0, 2, _shift(B, 20)),      # IoU 30*50/(2*2500-1500) = 0.43: no hit, not false
        (1, 1, _shift(A, 30)),      # IoU 20*50/(5000-1000) = 0.25: a false box (and A is missed)
        (1, 3, (400, 300, 40, 40)), # nowhere near a face: false
    ]
    r = score_tracks(truth, rep)
    assert (r["scored_faces"], r["recalled"]) == (4, 1)
    assert r["recall"] == 0.25
    assert (r["reported_boxes"], r["false_boxes"]) == (4, 2)
    assert r["false_box_rate"] == 0.5


def test_matching_is_one_to_one():
    """Two boxes on one face: one hit, and the duplicate is neither a second hit nor a false box."""
    truth = _truth(1, faces=[(0, 1, A, "scored")])
    r = score_tracks(truth, [(0, 1, A), (0, 2, _shift(A, 5))])
    assert (r["recalled"], r["false_boxes"], r["reported_boxes"]) == (1, 0, 2)


def test_greedy_matching_gives_each_face_its_best_box():
    """Faces 30 px apart: each box hits its own face (greedy by IoU), not the first found."""
    f1, f2 = (0, 0, 60, 60), (30, 0, 60, 60)
    truth = _truth(1, faces=[(0, 1, f1, "scored"), (0, 2, f2, "scored")])
    r = score_tracks(truth, [(0, 9, f2), (0, 8, f1)])
    assert r["recalled"] == 2


def test_ignore_faces_are_neither_hits_nor_false_boxes():
    truth = _truth(2, faces=[(0, 1, A, "scored"), (0, 2, B, "ignore"), (1, 2, B, "ignore")])
    r = score_tracks(truth, [(0, 5, B), (1, 5, B), (1, 6, (400, 300, 40, 40))])
    assert r["scored_faces"] == 1 and r["recalled"] == 0
    assert (r["reported_boxes"], r["false_boxes"]) == (3, 1)


def test_one_id_on_two_people_is_an_id_switch():
    truth = _two_people(frames=6)
    # id 7 follows person 1 for 3 frames, then jumps to person 2; id 8 then takes person 1
    rep = [(f, 7, A) for f in range(3)] + [(f, 7, B) for f in range(3, 6)] + [(f, 8, A) for f in range(3, 6)] \
        + [(f, 9, B) for f in range(3)]
    r = score_tracks(truth, rep)
    assert r["recall"] == 1.0
    assert r["id_switches"] == 1                 # id 7 on persons 1 and 2; ids 8, 9 on one each
    assert r["fragmentations"] == 2              # person 1: 7 -> 8, person 2: 9 -> 7


def test_fragmentation_without_id_switch():
    """A face that loses its track and gets a new id: a fragmentation, not an id switch; frames where
    it is not matched do not break the sequence."""
    truth = _truth(6, faces=[(f, 1, A, "scored") for f in range(6)])
    rep = [(0, 3, A), (1, 3, A), (4, 4, A), (5, 4, A)]      # missed on 2 and 3, back with a new id
    r = score_tracks(truth, rep)
    assert (r["recalled"], r["id_switches"], r["fragmentations"]) == (4, 0, 1)
    same_id = score_tracks(truth, [(0, 3, A), (5, 3, A)])
    assert same_id["fragmentations"] == 0


def test_identity_uses_the_loose_threshold_and_any_scope():
    """A box overlapping a face at 0.3 <= IoU < 0.5 is no hit, but does carry the id to that person,
    scored or ignore."""
    truth = _truth(2, faces=[(0, 1, A, "scored"), (1, 2, B, "ignore")])
    r = score_tracks(truth, [(0, 5, _shift(A, 20)), (1, 5, B)])
    assert r["recalled"] == 0
    assert r["id_switches"] == 1


def test_frame_step_counts_only_analysed_frames():
    truth = _two_people(frames=10)
    analysed = range(0, 10, 3)                   # 0, 3, 6, 9
    rep = [(f, 1, A) for f in range(10)] + [(f, 2, B) for f in (0, 3)]
    r = score_tracks(truth, rep, frames=analysed)
    assert r["analysed_frames"] == 4
    assert r["scored_faces"] == 8
    assert r["recalled"] == 6                    # A on 4 frames, B on 2
    assert r["reported_boxes"] == 6              # boxes on frames not analysed are left out
    assert r["false_boxes"] == 0


def test_frames_outside_the_clip_are_refused():
    with pytest.raises(ValueError):
        score_tracks(_two_people(frames=5), [], frames=[0, 5])
    with pytest.raises(ValueError):
        score_tracks(_two_people(frames=5), [(0, 1, (0, 0, 0, 10))])


def test_cuts_on_every_frame():
    truth = _two_people(frames=30, cuts=[10, 20])
    r = score_tracks(truth, [], cuts_found=[10, 15])
    assert r["cuts_true"] == [10, 20]
    assert r["cuts_found"] == [10, 15]
    assert r["cuts_missed"] == [20]
    assert r["false_cuts"] == [15]
    late = score_tracks(truth, [], cuts_found=[11, 20])  # a frame late, with every frame analysed: no match
    assert late["cuts_missed"] == [10] and late["false_cuts"] == [11]


def test_cuts_matched_across_skipped_frames():
    truth = _two_people(frames=30, cuts=[10, 20])
    analysed = list(range(0, 30, 3))             # ... 9, 12, ... 18, 21 ...
    r = score_tracks(truth, [], frames=analysed, cuts_found=[12, 21])
    assert r["cuts_true"] == [10, 20] and r["cuts_missed"] == [] and r["false_cuts"] == []
    early = score_tracks(truth, [], frames=analysed, cuts_found=[9, 24])   # before the cut, or a step late
    assert early["cuts_missed"] == [10, 20] and early["false_cuts"] == [9, 24]
    exact = score_tracks(truth, [], frames=range(0, 30, 5), cuts_found=[10, 20])
    assert exact["cuts_missed"] == [] and exact["false_cuts"] == []


def test_two_cuts_between_the_same_analysed_frames_count_once():
    truth = _two_people(frames=30, cuts=[10, 11])
    r = score_tracks(truth, [], frames=range(0, 30, 3), cuts_found=[12])
    assert r["cuts_true"] == [10, 11]
    assert len(r["cuts_missed"]) == 1 and r["false_cuts"] == []


def test_cuts_that_no_analysed_frame_brackets_are_not_counted():
    truth = _two_people(frames=30, cuts=[5, 20])
    r = score_tracks(truth, [], frames=range(10, 30), cuts_found=[])
    assert r["cuts_true"] == [20] and r["cuts_missed"] == [20]


def test_per_shot():
    truth = _truth(10, cuts=[4], faces=[(f, 1, A, "scored") for f in range(4)]
                   + [(f, 2, B, "ignore") for f in range(4, 10)])
    rep = [(f, 1, A) for f in range(2)] + [(f, 2, B) for f in range(4, 10)] + [(5, 3, (400, 300, 40, 40))]
    shots = score_tracks(truth, rep)["per_shot"]
    assert [(s["start"], s["end"]) for s in shots] == [(0, 3), (4, 9)]
    assert (shots[0]["scored_faces"], shots[0]["recalled"], shots[0]["recall"], shots[0]["false_boxes"]) \
        == (4, 2, 0.5, 0)
    assert (shots[1]["scored_faces"], shots[1]["recall"], shots[1]["reported_boxes"], shots[1]["false_boxes"]) \
        == (0, None, 7, 1)


def test_load_truth_and_on_frame(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"video": "x.mp4", "frames": 3, "cuts": [2], "faces": [
        {"frame": 0, "person": 1, "box": [1, 2, 3, 4], "scope": "scored"},
        {"frame": 2, "person": 2, "box": [5, 6, 7, 8], "scope": "ignore"}]}))
    t = load_truth(path)
    assert (t.frames, t.cuts, t.meta["video"]) == (3, [2], "x.mp4")
    assert t.on_frame(0) == [TruthFace(0, 1, (1, 2, 3, 4), "scored")]
    assert t.on_frame(1) == []
    assert t.on_frame(2)[0].scope == "ignore"
    assert t.shots() == [(0, 1), (2, 2)]


# --- the committed truth of the shared clip ---------------------------------------------------------
@pytest.fixture(scope="module")
def hamilton():
    return load_truth(TRUTH_FILE)


def test_hamilton_truth_covers_the_clip(hamilton):
    assert hamilton.frames == 275
    assert (hamilton.meta["width"], hamilton.meta["height"]) == (640, 360)
    assert hamilton.cuts == [20, 82, 211]
    frames = {f.frame for f in hamilton.faces}
    assert frames == set(range(275))             # every frame has at least one face
    assert all(f.scope in ("scored", "ignore") for f in hamilton.faces)
    # every shot but the close profile (shot 2: every face there is ignore) has scored faces on each frame
    for start, end in hamilton.shots():
        scored_frames = {f.frame for f in hamilton.faces if start <= f.frame <= end and f.scope == "scored"}
        assert scored_frames == (set() if start == 20 else set(range(start, end + 1)))


def test_hamilton_boxes_inside_the_frame_and_scored_faces_big_enough(hamilton):
    for f in hamilton.faces:
        x, y, w, h = f.box
        assert all(isinstance(v, int) for v in f.box)
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 640 and y + h <= 360, f
        if f.scope == "scored":
            assert w >= 40 and h >= 40, f
            assert w == h, f                     # Haar framing is square


def test_hamilton_one_box_per_person_per_frame_and_no_jumps(hamilton):
    seen = set()
    track = defaultdict(dict)
    for f in hamilton.faces:
        assert (f.frame, f.person) not in seen, f
        seen.add((f.frame, f.person))
        track[f.person][f.frame] = f.box
    shots = hamilton.shots()
    shot_of = lambda frame: next(i for i, (s, e) in enumerate(shots) if s <= frame <= e)  # noqa: E731
    for person, boxes in track.items():
        assert len({shot_of(fr) for fr in boxes}) == 1, f"person {person} spans a cut"
        frames = sorted(boxes)
        for a, b in zip(frames, frames[1:]):
            if b != a + 1:
                continue
            (ax, ay, aw, ah), (bx, by, bw, bh) = boxes[a], boxes[b]
            side = max(aw, ah, bw, bh)
            moved = max(abs(ax + aw / 2 - bx - bw / 2), abs(ay + ah / 2 - by - bh / 2))
            assert moved <= 0.35 * side and 0.75 <= (bw * bh) / (aw * ah) <= 1.33, (person, a, b)


def test_hamilton_scored_persons(hamilton):
    scored = {f.person for f in hamilton.faces if f.scope == "scored"}
    assert len(scored) == 4                      # performer (wide, close), two laughing women
    assert sum(f.scope == "scored" for f in hamilton.faces) == 20 + 129 + 2 * 64
    for p in hamilton.meta["persons"]:
        assert int(p) in {f.person for f in hamilton.faces}
