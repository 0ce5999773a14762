"""The annotated copy: a video browsers play (H.264 MP4 with the original's sound and length, frame
steps included), labels readable at the frame's size, and faces blurred when asked."""

import shutil
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest

from emotion.ml.annotate import COLOURS, blur_faces, draw_faces, text_px
from emotion.ml.driver import AnnotatedSink
from emotion.ml.media import probe_video
from emotion.ml.results import FaceResult
from emotion.ml.video_out import start_offset
from tests import servers
from tests.conftest import CLIP, MEDIA, ROOT, need

BOX = (250, 60, 120, 120)          # a face of the shared clip's first frames


def face(box=BOX, reliable=True, dominant=6) -> FaceResult:
    probs = np.full(7, 0.05)
    probs[dominant] = 0.7
    return FaceResult(face_id=3, box=box, probs=probs, reliable=reliable)


def write_annotated(source, out, step=1, blur=False, limit=None):
    """Run the clip's frames through the sink as the driver does, a face drawn on each."""
    info = probe_video(source)
    sink = AnnotatedSink(out, source=source, blur=blur)
    sink.begin("video", info, step)
    cap = cv2.VideoCapture(str(source))
    index = 0
    while limit is None or index < limit:
        ok, frame = cap.read()
        if not ok:
            break
        if index % step == 0:
            sink.frame(index, index / info.fps, frame, [face()])
        index += 1
    cap.release()
    sink.close()
    assert sink.error == "" and sink.written
    return info


def streams(path) -> dict:
    with av.open(str(path)) as c:
        return {"video": c.streams.video[0].codec_context.name,
                "pix_fmt": c.streams.video[0].codec_context.pix_fmt,
                "audio": c.streams.audio[0].codec_context.name if c.streams.audio else None,
                "duration": c.duration / 1e6,
                "frames": sum(1 for _ in c.decode(video=0)),
                "offset": start_offset(path)}


@pytest.mark.parametrize("step", [1, 3])
def test_video_is_h264_with_the_originals_sound_length_and_timing(tmp_path, step):
    out = tmp_path / "annotated.mp4"
    write_annotated(need(CLIP), out, step)
    got, original = streams(out), streams(CLIP)
    assert got["video"] == "h264" and got["pix_fmt"] == "yuv420p"
    assert original["audio"] == "aac" and got["audio"] == "aac"          # copied as it is
    assert abs(got["duration"] - original["duration"]) < 0.05, (got, original)
    assert got["frames"] == -(-275 // step) + (1 if step > 1 else 0)      # the last one held to the end
    # the first picture comes as late after the sound's start as in the original (0.84 s in this clip)
    assert original["offset"] > 0.5 and abs(got["offset"] - original["offset"]) < 0.002
    head = out.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or head.find(b"mdat") < 0     # faststart: index first


def test_frame_at_a_time_is_the_originals_frame_at_that_time(tmp_path):
    """Frame step 3: at any time the annotated video shows the analysed frame that stands for it."""
    out = tmp_path / "annotated.mp4"
    info = write_annotated(need(CLIP), out, 3)
    originals = []
    cap = cv2.VideoCapture(str(CLIP))
    while (got := cap.read())[0]:
        originals.append(cv2.resize(got[1], (160, 90)).astype(float))
    with av.open(str(out)) as c:
        offset = start_offset(out)
        for frame in c.decode(video=0):
            t = frame.time - offset                                        # analysis time
            img = cv2.resize(frame.to_ndarray(format="bgr24"), (160, 90)).astype(float)
            # the face's box and labels are drawn: compare the picture's left part, outside them
            nearest = int(np.argmin([np.abs(img[:, :50] - o[:, :50]).mean() for o in originals]))
            assert abs(nearest - round(t * info.fps)) <= 2 or nearest == 274, (t, nearest)


def test_sound_of_another_codec_is_reencoded(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: apt-get install -y ffmpeg (see README)")
    src = tmp_path / "pcm.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", "2", "-c:v", "libx264", "-c:a", "pcm_s16le",
                    str(src)], check=True)
    out = tmp_path / "annotated.mp4"
    write_annotated(src, out)
    got = streams(out)
    assert got["video"] == "h264" and got["audio"] == "aac"
    assert abs(got["duration"] - streams(src)["duration"]) < 0.1


def test_webm_asks_for_vp9_and_a_video_without_sound_gets_none(tmp_path):
    silent = tmp_path / "silent.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", "1", "-an", "-c:v", "libx264", str(silent)],
                   check=True)
    out = tmp_path / "annotated.webm"
    write_annotated(silent, out)
    got = streams(out)
    assert got["video"] == "vp9" and got["audio"] is None and got["frames"] == 30


def test_an_unknown_extension_is_a_clear_error(tmp_path):
    sink = AnnotatedSink(tmp_path / "out.avi", source=CLIP)
    sink.begin("video", probe_video(CLIP), 1)
    assert "as .mp4 (H.264) or .webm (VP9)" in sink.error
    sink.close()
    assert not sink.written


def test_labels_are_readable_at_the_frames_size():
    for height in (360, 1080):
        frame = np.full((height, height * 16 // 9, 3), 160, np.uint8)         # a light picture
        s = height / 360
        box = tuple(int(v * s) for v in (250, 120, 120, 120))
        drawn = draw_faces(frame, [face(box)])
        x, y = box[:2]
        th = text_px(height)
        assert th >= 0.03 * height
        # the label above the box: a dark backdrop with white text at least 3% of the frame high
        label = drawn[y - int(1.5 * th):y - 3, x:x + 6 * th].astype(int)
        dark = label.sum(axis=2) < 3 * 80
        white = label.min(axis=2) > 230
        rows = np.flatnonzero(white.any(axis=1))
        assert dark.mean() > 0.5, "no dark backdrop behind the label"
        assert rows.size and rows[-1] - rows[0] + 1 >= 0.03 * height * 0.7, (height, rows)
        # the colour of "neutral" is on the box and the swatch, not the text
        assert (np.abs(drawn.astype(int) - COLOURS["neutral"]).sum(axis=2) < 10).sum() > 10 * th


def test_blur_hides_the_face_and_leaves_the_rest_alone():
    frame = cv2.imread(str(need(MEDIA / "obama.jpg")))
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    found = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml").detectMultiScale(
        gray, 1.1, 5, minSize=(80, 80))
    x, y, w, h = (int(v) for v in max(found, key=lambda b: b[2] * b[3]))
    blurred = blur_faces(frame, [face((x, y, w, h))])
    inside, before = blurred[y:y + h, x:x + w], frame[y:y + h, x:x + w]
    assert np.abs(inside.astype(int) - before).mean() > 10
    # the detail a person is recognised by is gone: next to no edges left, and no face found there
    assert cv2.Laplacian(cv2.cvtColor(inside, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var() < \
        0.02 * cv2.Laplacian(cv2.cvtColor(before, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
    assert len(cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml").detectMultiScale(
        cv2.cvtColor(blurred, cv2.COLOR_BGR2GRAY), 1.1, 5, minSize=(80, 80))) == len(found) - 1
    outside = np.ones(frame.shape[:2], bool)
    outside[y:y + h, x:x + w] = False
    assert np.array_equal(blurred[outside], frame[outside])
    # the annotated copy keeps the box and labels over the blurred face
    drawn = draw_faces(frame, [face((x, y, w, h))], blur=True)
    m = max(8, w // 10)
    # (where the frame's edge leaves no room beside the box, the bars may cover part of it)
    same = (drawn[y + m:y + h - m, x + m:x + w - m] == blurred[y + m:y + h - m, x + m:x + w - m]).all(axis=2)
    assert same.mean() > 0.5
    assert not np.array_equal(drawn[y - 2:y + 2, x:x + w], blurred[y - 2:y + 2, x:x + w])


def test_analyze_command_writes_a_blurred_h264_copy_with_sound(tmp_path):
    plain, blurred = tmp_path / "plain.mp4", tmp_path / "blurred.mp4"
    for out, extra in ((plain, []), (blurred, ["--blur"])):
        res = subprocess.run([sys.executable, "manage.py", "analyze", str(need(CLIP)), "--frame-step", "5",
                              "--format", "csv", "--out", str(tmp_path / "r.csv"), "--annotate", str(out),
                              "--no-progress", *extra], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
    got = streams(blurred)
    assert got["video"] == "h264" and got["audio"] == "aac" and abs(got["duration"] - streams(CLIP)["duration"]) < 0.05
    import csv
    rows = [r for r in csv.DictReader((tmp_path / "r.csv").open()) if r["reliable"] == "True"]
    r = rows[len(rows) // 2]
    frame_no, (x, y, w, h) = int(r["frame"]), (int(r[k]) for k in "xywh")

    def frame_at(path):
        with av.open(str(path)) as c:
            return next(f for i, f in enumerate(c.decode(video=0)) if i == frame_no // 5).to_ndarray(format="bgr24")

    a, b = frame_at(plain), frame_at(blurred)
    m = max(8, w // 5)
    inner = (slice(y + m, y + h - m), slice(x + m, x + w - m))
    assert np.abs(a[inner].astype(int) - b[inner]).mean() > 8
    servers.ARTIFACTS.mkdir(exist_ok=True)
    cv2.imwrite(str(servers.ARTIFACTS / "annotated-frame.png"), a)
    cv2.imwrite(str(servers.ARTIFACTS / "annotated-frame-blurred.png"), b)


def _label_and_panel_rects(faces, H, W):
    """The rectangles draw_faces gives each face's label and panel (its own layout, as drawn)."""
    from emotion.ml import annotate

    seen = {}

    def spy(*args):
        seen["rects"] = real(*args)
        return seen["rects"]

    real, annotate.layout = annotate.layout, spy
    try:
        annotate.draw_faces(np.zeros((H, W, 3), np.uint8), faces)
    finally:
        annotate.layout = real
    return seen["rects"]


def _clashes(faces, labels, panels):
    """Pairs (what, other face) where one face's label or panel covers another face's box, label or panel."""
    from emotion.ml.annotate import _overlap

    boxes = [(x, y, x + w, y + h) for x, y, w, h in (f.box for f in faces)]
    found = []
    for i in range(len(faces)):
        for j in range(len(faces)):
            if i == j:
                continue
            for what, mine in (("label", labels[i]), ("panel", panels[i])):
                for whose, theirs in (("box", boxes[j]), ("label", labels[j]), ("panel", panels[j])):
                    if _overlap(mine, theirs):
                        found.append(f"#{faces[i].face_id} {what} over #{faces[j].face_id} {whose}")
    return found


def test_faces_side_by_side_keep_their_labels_and_panels_apart(engine):
    """two_people.jpg: the second face's panel used to be drawn over the first face's label."""
    img = cv2.imread(str(need(MEDIA / "two_people.jpg")))
    faces = engine.analyze_image(img)
    assert len(faces) == 2
    labels, panels = _label_and_panel_rects(faces, *img.shape[:2])
    assert _clashes(faces, labels, panels) == []
    for (x, y, w, h), lab, pan in zip((f.box for f in faces), labels, panels):
        own = (x, y, x + w, y + h)
        from emotion.ml.annotate import _overlap
        assert _overlap(lab, own) == 0 and _overlap(pan, own) == 0 and _overlap(lab, pan) == 0


def test_a_row_of_close_faces_is_laid_out_without_overlaps():
    """Three faces in a row, each panel wider than the room between two faces, as a group photo gives."""
    faces = [FaceResult(face_id=i + 1, box=(60 + 340 * i, 220, 110, 110), probs=np.full(7, 1 / 7), reliable=True)
             for i in range(3)]
    labels, panels = _label_and_panel_rects(faces, 720, 1100)
    assert _clashes(faces, labels, panels) == []
