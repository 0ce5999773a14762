"""python manage.py analyze, run as a user would: a real subprocess on real media."""

import csv
import io
import json
import subprocess
import sys

import struct
import zlib

import cv2
import numpy as np
import pytest

from emotion.ml.labels import EMOTIONS
from tests.conftest import CLIP, MEDIA, ROOT, need


def analyze(*args, timeout=300):
    return subprocess.run([sys.executable, "manage.py", "analyze", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_image_as_json(tmp_path):
    out = tmp_path / "two.json"
    res = analyze(need(MEDIA / "two_people.jpg"), "--format", "json", "--out", out,
                  "--annotate", tmp_path / "two.png")
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert data["kind"] == "image" and len(data["results"]) == 2
    assert {r["face_id"] for r in data["results"]} == {1, 2}
    assert all(abs(sum(r[e] for e in EMOTIONS) - 1) < 1e-3 for r in data["results"])
    assert all(r["source"] == "detected" and r["face_size"] > 40 and isinstance(r["reliable"], bool)
               and r["sharpness"] > 0 and r["brightness"] > 0 for r in data["results"])
    assert cv2.imread(str(tmp_path / "two.png")).shape == cv2.imread(str(MEDIA / "two_people.jpg")).shape


def test_table_is_the_default():
    res = analyze(need(MEDIA / "obama.jpg"))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["frame", "time", "face"] and len(lines) == 2


def test_clip_as_csv_with_annotated_video(tmp_path):
    out, video = tmp_path / "clip.csv", tmp_path / "clip.mp4"
    res = analyze(need(CLIP), "--format", "csv", "--out", out, "--annotate", video)
    assert res.returncode == 0, res.stderr
    assert "275/275" in res.stderr                                    # the progress bar reached the end
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == ["frame", "time", "face_id", "x", "y", "w", "h", *EMOTIONS, "dominant", "top", "source",
                             "face_size", "sharpness", "brightness", "noise", "confidence", "reliable", "model_version"]
    assert {r["source"] for r in rows} == {"detected", "tracked"}
    # the shown label beside the argmax of the probabilities written in the same row
    assert all(r["top"] == max(EMOTIONS, key=lambda e: float(r[e])) for r in rows)
    assert {r["reliable"] for r in rows} == {"True", "False"}
    assert len({r["frame"] for r in rows}) > 150
    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 275
    cap.release()


BAD_FILES = {
    "absent.mp4": (None, "no such file"),
    "empty.mp4": (b"", "empty"),
    "notes.mp4": (b"not a video\n" * 100, "neither an image nor a video"),
    "photo.jpg": (b"\xff\xd8\xff\xe0" + b"\0" * 500, "neither an image nor a video"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_give_a_message_and_a_non_zero_exit(tmp_path, name):
    content, message = BAD_FILES[name]
    if content is not None:
        (tmp_path / name).write_bytes(content)
    res = analyze(tmp_path / name)
    assert res.returncode != 0
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def _huge_png(path, side=60000):
    """A valid 8x8 PNG whose header claims side x side pixels (CRC fixed): a decompression bomb."""
    ok, buf = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    b = bytearray(buf.tobytes())
    b[16:24] = struct.pack(">II", side, side)
    b[29:33] = struct.pack(">I", zlib.crc32(bytes(b[12:29])))
    path.write_bytes(bytes(b))
    return path


def test_image_of_absurd_dimensions_is_refused_before_decoding(tmp_path):
    res = analyze(_huge_png(tmp_path / "bomb.png"))
    assert res.returncode != 0 and "over the limit" in res.stderr and "Traceback" not in res.stderr


def test_bad_checkpoint_and_unwritable_output(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    res = analyze(need(MEDIA / "obama.jpg"), "--checkpoint", tmp_path / "bad.pt")
    assert res.returncode != 0 and "cannot load the model checkpoint" in res.stderr
    assert "Traceback" not in res.stderr
    res = analyze(need(MEDIA / "obama.jpg"), "--out", tmp_path / "no" / "such" / "dir.csv")
    assert res.returncode != 0 and "could not write" in res.stderr and "Traceback" not in res.stderr


def test_mp4_cut_before_its_index(tmp_path):
    data = need(CLIP).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) * 2 // 3])
    res = analyze(tmp_path / "cut.mp4")
    assert res.returncode != 0 and "truncated" in res.stderr and "Traceback" not in res.stderr


def test_truncated_avi_keeps_the_frames_it_decoded(tmp_path):
    cap, path = cv2.VideoCapture(str(need(CLIP))), tmp_path / "whole.avi"
    cap.set(cv2.CAP_PROP_POS_FRAMES, 100)                        # the close-up shot: a face in every frame
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 360))
    for _ in range(60):
        writer.write(cap.read()[1])
    writer.release(); cap.release()
    data = path.read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 2])
    res = analyze(tmp_path / "cut.avi", "--format", "csv", "--out", tmp_path / "cut.csv")
    assert res.returncode != 0 and "truncated" in res.stderr and "Traceback" not in res.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "cut.csv").read_text())))
    assert 5 < len({r["frame"] for r in rows}) < 60


def test_video_without_faces(tmp_path):
    path = tmp_path / "blank.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    frame = cv2.imread(str(need(MEDIA / "obama.jpg")))[:120, :160]          # a real corner: wall, no face
    for _ in range(20):
        out.write(frame)
    out.release()
    res = analyze(path)
    assert res.returncode != 0 and "no faces found" in res.stderr and "Traceback" not in res.stderr


def test_bad_options():
    res = analyze(need(MEDIA / "obama.jpg"), "--frame-step", "0")
    assert res.returncode != 0 and "at least 1" in res.stderr
