"""The engine on real photos and the real clip, with the shipped checkpoint."""

import cv2
import numpy as np
import pytest

from emotion.ml import COLUMNS, EMOTIONS, MediaError, TruncatedVideoError
from emotion.ml.faces import crop_faces, to_gray
from emotion.ml.media import read_image
from tests.conftest import CLIP, MEDIA, need


def test_classify_faces_shape_and_probabilities(engine, fer_splits):
    faces = fer_splits["PrivateTest"][0][:16]
    probs = engine.classify_faces(faces)
    assert probs.shape == (16, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)
    assert engine.classify_faces(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    with pytest.raises(ValueError, match="uint8 faces"):
        engine.classify_faces(np.zeros((2, 64, 64), np.uint8))


def test_classify_faces_is_well_above_chance_on_real_faces(engine, fer_splits):
    # 700 PrivateTest faces: the full score is in the model card; this guards against a broken pipeline
    x, y = fer_splits["PrivateTest"]
    idx = np.random.default_rng(0).permutation(len(y))[:700]
    acc = float((engine.classify_faces(x[idx]).argmax(1) == y[idx]).mean())
    assert acc > 0.62                                  # the card: 0.698 on all 3589


def test_two_people(engine):
    faces = engine.analyze_image(read_image(need(MEDIA / "two_people.jpg")))
    assert len(faces) == 2
    assert faces[0].box[0] < faces[1].box[0]
    for f in faces:
        d = f.to_dict()
        assert set(d["probs"]) == set(EMOTIONS) and d["dominant"] in EMOTIONS
        assert abs(sum(d["probs"].values()) - 1) < 1e-3


@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg", "lin-manuel-miranda.png"])
def test_portraits_have_one_face(engine, name):
    assert len(engine.analyze_image(read_image(need(MEDIA / name)))) == 1


def test_group_photo_finds_at_least_the_two_clear_faces(engine):
    assert len(engine.analyze_image(read_image(need(MEDIA / "obama_and_biden.jpg")))) >= 2


def test_crop_is_framed_like_fer2013(engine):
    img = read_image(need(MEDIA / "obama.jpg"))
    (face,) = engine.analyze_image(img)
    crop = crop_faces(to_gray(img), [face.box])
    assert crop.shape == (1, 48, 48) and crop.dtype == np.uint8
    edge = crop_faces(to_gray(img), [(-20, -20, 100, 100)])   # off the frame: padded, not an error
    assert edge.shape == (1, 48, 48)


def test_video_records_and_progress(engine):
    seen = []
    records = list(engine.analyze_video(need(CLIP), progress=lambda done, total: seen.append((done, total))))
    assert seen[-1][0] == seen[-1][1] == 275
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    frames = {r.frame for r in records}
    assert len(frames) > 150                       # the speaker's face is visible most of the clip
    first = records[0].to_dict()
    assert {"id", "box", "probs", "dominant", "top", "source", "face_size", "sharpness", "brightness", "noise",
            "confidence", "reliable"} == set(first)
    assert list(records[0].row("v")) == list(COLUMNS)
    # ``top`` is the argmax beside the held label, in the live reply and the flat row alike
    for r in records:
        assert r.to_dict()["top"] == r.row("v")["top"] == EMOTIONS[int(np.argmax(r.probs))]
    assert abs(records[-1].time - records[-1].frame / 29.97) < 1e-3
    # one face stays one track through the long close-up shot (frames 90..250)
    ids = {r.face_id for r in records if 100 <= r.frame < 160}
    assert len(ids) == 1


def test_stream_carries_state_per_face(engine):
    img = read_image(need(MEDIA / "obama.jpg"))
    stream = engine.stream()
    first = stream.process(img)
    for _ in range(5):
        last = stream.process(img)
    assert [f.face_id for f in last] == [f.face_id for f in first] == [1]
    assert not np.allclose(first[0].probs, last[0].probs)     # the LSTM state moved on
    stream.reset()
    again = stream.process(img)
    np.testing.assert_allclose(again[0].probs, first[0].probs, atol=1e-5)


def test_stream_forgets_faces_that_are_gone_and_new_shots(engine):
    obama, biden = (read_image(need(MEDIA / n)) for n in ("obama.jpg", "biden.jpg"))
    biden = np.ascontiguousarray(biden[:obama.shape[0], 30:30 + obama.shape[1]])   # same size, face kept
    stream = engine.stream()
    assert [f.face_id for f in stream.process(obama)] == [1]
    blank = np.full_like(obama, 128)
    assert [stream.process(blank) for _ in range(4)] == [[]] * 4      # gone: no stale box reported
    stream.reset()
    stream.process(obama)
    assert [f.face_id for f in stream.process(biden)] == [2]            # a cut: a new person, a new id


def test_frame_step(engine):
    records = list(engine.analyze_video(need(CLIP), frame_step=5))
    assert records and all(r.frame % 5 == 0 for r in records)


def test_media_errors(tmp_path):
    from emotion.ml.media import open_media
    with pytest.raises(MediaError, match="no such file"):
        open_media(tmp_path / "absent.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        open_media(tmp_path / "empty.jpg")
    (tmp_path / "notes.mp4").write_text("this is text, not a video\n" * 50)
    with pytest.raises(MediaError, match="neither an image nor a video"):
        open_media(tmp_path / "notes.mp4")


def _avi(path, frames):
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    for f in frames:
        out.write(f)
    out.release()
    return path


@pytest.fixture(scope="module")
def clip_frames():
    from emotion.ml.media import iter_frames
    return [f for i, f in iter_frames(need(CLIP)) if i < 60]


def test_truncated_video_raises_after_its_frames(engine, tmp_path, clip_frames):
    whole = _avi(tmp_path / "whole.avi", clip_frames).read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole[: len(whole) // 2])      # the header still promises 60 frames
    records = []
    with pytest.raises(TruncatedVideoError, match="truncated") as info:
        for rec in engine.analyze_video(cut):
            records.append(rec)
    assert 5 < info.value.frames_read < 60
    assert records                                 # what was decoded was analysed


def test_mp4_cut_before_its_index_is_refused_clearly(tmp_path):
    from emotion.ml.media import open_media
    data = need(CLIP).read_bytes()                 # this file keeps its index (moov) at the end
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="damaged or truncated"):
        open_media(tmp_path / "cut.mp4")
