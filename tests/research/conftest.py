"""Real and deliberately broken media for the upload tests, made once per session from the shared files."""

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import cv2
import pytest
from django.contrib.auth.models import User

from tests.conftest import CLIP, MEDIA, need, opencv_frames


@pytest.fixture(scope="session")
def bad_media(tmp_path_factory) -> dict:
    """name -> path of each kind of bad input the site must turn into a clear message."""
    d = tmp_path_factory.mktemp("bad-media")
    out = {}
    out["empty"] = d / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["text_as_mp4"] = d / "notes.mp4"
    out["text_as_mp4"].write_text("These are my notes, not a video.\n" * 40)
    # A 12-byte-per-pixel-row PNG header that claims 100000 x 100000 pixels: a few hundred bytes on disk
    out["huge_png"] = d / "huge.png"
    out["huge_png"].write_bytes(_png_claiming(100_000, 100_000))
    # The clip cut in half: its index (moov) sits at the end, so nothing can be decoded
    data = need(CLIP).read_bytes()
    out["truncated_mp4"] = d / "cut.mp4"
    out["truncated_mp4"].write_bytes(data[: len(data) // 2])
    # An AVI cut after its first third: it opens, then decoding stops early
    avi = d / "whole.avi"
    _write_avi(avi, _clip_frames(90))
    raw = avi.read_bytes()
    out["truncated_avi"] = d / "cut.avi"
    out["truncated_avi"].write_bytes(raw[: len(raw) // 3])
    # A real video with no face in it: the clip's frames blurred beyond recognition
    out["no_faces"] = d / "no_faces.avi"
    _write_avi(out["no_faces"], [cv2.GaussianBlur(f, (0, 0), 25) for f in _clip_frames(30)])
    return out


@pytest.fixture(scope="session")
def video_formats(tmp_path_factory) -> dict:
    """The first 2 s of the shared clip in each accepted container (ffmpeg from Debian's packages)."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: apt-get install -y ffmpeg (see README)")
    d = tmp_path_factory.mktemp("formats")
    codecs = {"mov": ["-c:v", "libx264"], "avi": ["-c:v", "mjpeg", "-q:v", "4"], "webm": ["-c:v", "libvpx", "-b:v", "1M"],
              "mkv": ["-c:v", "libx264"]}
    out = {"mp4": need(CLIP)}
    for ext, codec in codecs.items():
        path = d / f"clip.{ext}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", "2", "-an", *codec, str(path)], check=True)
        out[ext] = path
    return out


@pytest.fixture(scope="session")
def image_formats(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("images")
    bgr = cv2.imread(str(need(MEDIA / "two_people.jpg")))
    out = {"jpeg": MEDIA / "two_people.jpg"}
    for ext in ("png", "webp"):
        path = d / f"two_people.{ext}"
        cv2.imwrite(str(path), bgr)
        out[ext] = path
    return out


@pytest.fixture(scope="module")
def own_daphne(site_env, request):
    """(process, url) of a daphne of the test module's own, so that its pid is known and its memory
    and CPU time are that module's."""
    from tests import servers

    name = request.module.__name__.rsplit(".", 1)[-1]
    proc, url = servers.start_daphne(site_env, servers.ARTIFACTS / f"daphne-{name}.log")
    yield proc, url
    servers.stop(proc)


@pytest.fixture
def researcher(db):
    return User.objects.create_user("ada", password="a-long-password-1")


@pytest.fixture
def other_researcher(db):
    return User.objects.create_user("bob", password="a-long-password-2")


def _clip_frames(n: int) -> list:
    return opencv_frames(need(CLIP), n)


def _write_avi(path: Path, frames: list) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def api_for(user):
    """An API client that authenticates with a fresh token of ``user``."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def post_file(client, path, **fields):
    with open(path, "rb") as fh:
        return client.post("/api/analyses/", {"file": fh, **fields}, format="multipart")


def upload(path: Path, name: str = None):
    """A Django upload of a file on disk, as the request parser would hand it over."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name or path.name, Path(path).read_bytes())
