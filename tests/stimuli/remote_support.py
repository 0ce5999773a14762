"""What the remote-session tests share: a study with its members, a short stimulus video cut from the
shared clip (made once with ffmpeg, kept under test-artifacts/), stimuli saved through the storage API,
and links made the way the page makes them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2

from emotion.research.models import Role, Study, StudyMember
from emotion.stimuli.models import Stimulus
from emotion.stimuli.sessions import links
from tests import servers
from tests.conftest import CLIP, MEDIA, need

CACHE = servers.ARTIFACTS / "remote-media"
# from this second of the shared clip its face is big enough to be found in a 640 px frame
CLIP_FACE_START = 2.8


def _made(path: Path, args: list) -> Path:
    """An ffmpeg product of the shared clip, made once and reused while the clip is unchanged."""
    if not path.exists() or path.stat().st_mtime < need(CLIP).stat().st_mtime:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part" + path.suffix)
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(tmp)], check=True)
        tmp.rename(path)
    return path


def stimulus_video() -> Path:
    """3 s of the shared clip, 480 px wide, H.264 with its index first: the stimulus participants watch."""
    return _made(CACHE / "stimulus-3s.mp4", ["-ss", "4", "-i", str(CLIP), "-t", "3", "-vf", "scale=480:-2", "-an",
                                             "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])


def camera_clip() -> Path:
    """The shared clip as the fake camera's Y4M file (Chromium plays it in a loop), small and at 10 frames/s."""
    return _made(CACHE / "camera.y4m", ["-ss", str(CLIP_FACE_START), "-i", str(CLIP), "-t", "6", "-r", "10",
                                        "-vf", "scale=640:-2", "-pix_fmt", "yuv420p"])


def face_jpeg(width: int = 320) -> bytes:
    """The shared portrait as the page would send it."""
    bgr = cv2.imread(str(need(MEDIA / "obama.jpg")))
    h, w = bgr.shape[:2]
    bgr = cv2.resize(bgr, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def study_with_members(django_user_model):
    """A study of ``owner`` with an editor, a viewer, and an outsider who is in none of it."""
    users = {name: django_user_model.objects.create_user(name, password=f"pw-{name}-long-1")
             for name in ("owner", "editor", "viewer", "outsider")}
    study = Study.objects.create(owner=users["owner"], name="Adverts")
    StudyMember.objects.create(study=study, user=users["editor"], role=Role.EDITOR, accepted=True)
    StudyMember.objects.create(study=study, user=users["viewer"], role=Role.VIEWER, accepted=True)
    return study, users


def make_stimulus(study, path: Path = None, kind: str = "video", duration: float = 3.0,
                  consent: str = "We study reactions to adverts. Contact: lab@example.org") -> Stimulus:
    from django.core.files.base import ContentFile

    path = path or stimulus_video()
    data = path.read_bytes()
    return Stimulus.objects.create(study=study, title="Advert A", kind=kind, file=ContentFile(data, name=path.name),
                                   original_name=path.name, size_bytes=len(data), media_format=path.suffix[1:],
                                   width=480, height=270, duration=duration, consent_text=consent)


def link_for(stimulus, code=None, **kw):
    """(link, key) of a new per-code link, or of an open one when ``code`` is None."""
    (made,) = links.create(stimulus, None, [code] if code else None, **kw)
    return made.link, made.key
