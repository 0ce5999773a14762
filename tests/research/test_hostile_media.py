"""Small files that decode to huge images, sent to a real daphne: none may raise its resident memory by
more than 300 MB, and each gets a clear refusal. Then the worker and the frame view, which refuse media
over the limits from the stored size, before decoding.

The inputs are the security review's (issue 11): a 30000 x 30000 PNG (875 KB) uploaded to the API,
which took daphne from 633 MB to 5.7 GB; on the anonymous live socket a 16383 x 16383 WebP (42 bytes
here, about 1.45 GB a frame) and a 7000 x 7000 JPEG with a stray byte before its DQT segment (191 KB);
a MOV and an MP4 holding one 16000 x 16000 frame (1 MB), whose probing added 1.7 GB to daphne.

Daphne's peak is read from /proc (VmHWM, reset before each input through clear_refs), after a warm-up
that loads what ordinary traffic loads (the engine, the probe's first run).
"""

import json
import time
from pathlib import Path

import pytest
import requests
from django.core.files import File
from django.urls import reverse
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis
from tests import servers
from tests.hostile_media import one_frame_video, solid_jpeg, solid_png, solid_webp, with_stray_byte_before_dqt

pytestmark = pytest.mark.django_db(transaction=True)

BAR_MB = 300
Memory = servers.Memory


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("hostile-daphne")
    png = d / "huge.png"
    png.write_bytes(solid_png(30000, 30000))
    return {"png": png, "mov": one_frame_video(d / "frame.mov", 16000, 16000),
            "mp4": one_frame_video(d / "frame.mp4", 16000, 16000),
            "webp": solid_webp(16383, 16383), "jpeg": with_stray_byte_before_dqt(solid_jpeg(7000, 7000)),
            "ordinary": solid_jpeg(640, 480)}


@pytest.fixture
def site(own_daphne, researcher, hostile, tmp_path):
    proc, url = own_daphne
    token = Token.objects.create(user=researcher).key
    ordinary = tmp_path / "ordinary.jpg"
    ordinary.write_bytes(hostile["ordinary"])

    def upload(path: Path):
        with open(path, "rb") as fh:
            return requests.post(f"{url}/api/analyses/", files={"file": (path.name, fh)},
                                 headers={"Authorization": f"Token {token}"}, timeout=120)

    def frames(*data: bytes) -> list:
        ws_url = url.replace("http://", "ws://") + "/ws/live/"
        with connect(ws_url, origin=url, proxy=None, open_timeout=30, max_size=None) as ws:
            replies = []
            for frame in data:
                ws.send(frame)
                while True:                 # the reply to a frame carries its seq (a hello comes first)
                    reply = json.loads(ws.recv(timeout=120))
                    if "seq" in reply:
                        break
                replies.append(reply)
            return replies

    # Warm-up: what ordinary traffic loads (the engine for the live page, the upload path and its probe).
    assert upload(ordinary).status_code == 201
    assert frames(hostile["ordinary"])[0]["type"] == "result"
    return Memory(proc.pid), upload, frames


@pytest.mark.parametrize("case", ["png", "mov", "mp4"])
def test_hostile_uploads_are_refused_without_raising_daphnes_memory(site, hostile, case):
    memory, upload, _ = site
    rise, res = memory.rise_during(lambda: upload(hostile[case]))
    assert res.status_code == 400, res.text
    message = json.dumps(res.json(), ensure_ascii=False)
    want = {"png": "30000x30000 pixels", "mov": "16000x16000 pixels", "mp4": "16000x16000 pixels"}[case]
    assert want in message and "over the limit" in message
    print(f"{case}: daphne's peak rose by {rise:.0f} MB; {message}")
    assert rise < BAR_MB


@pytest.mark.parametrize("case", ["webp", "jpeg"])
def test_hostile_live_frames_are_refused_without_raising_daphnes_memory(site, hostile, case):
    memory, _, frames = site
    rise, replies = memory.rise_during(lambda: frames(hostile[case], hostile[case], hostile["ordinary"]))
    bad, again, ordinary = replies
    want = {"webp": "16383x16383", "jpeg": "7000x7000"}[case]
    for reply in (bad, again):
        assert reply["type"] == "error" and reply["code"] == "bad_image", reply
        assert f"{want} pixels is over the live limit" in reply["message"]
    assert ordinary["type"] == "result"                  # the socket still serves
    print(f"{case}: daphne's peak rose by {rise:.0f} MB; {bad['message']}")
    assert rise < BAR_MB


# --- the worker and the frame view: refused from the stored size, before decoding -----------------

@pytest.fixture
def stored_huge_video(researcher, hostile):
    """An analysis stored before the limits (or under laxer ones): its facts say 16000 x 16000."""
    a = Analysis(owner=researcher, kind=Analysis.Kind.VIDEO, media_format="mov", original_name="frame.mov",
                 size_bytes=hostile["mov"].stat().st_size, width=16000, height=16000, fps=1.0, frame_count=1,
                 duration=1.0)
    with open(hostile["mov"], "rb") as fh:
        a.file.save("upload.mov", File(fh), save=True)
    return a


def test_the_worker_refuses_a_stored_video_over_the_limit_before_decoding(stored_huge_video):
    started = time.perf_counter()
    outcome = run_analysis(stored_huge_video.pk, stored_huge_video.run_id)
    assert time.perf_counter() - started < 5
    stored_huge_video.refresh_from_db()
    assert outcome == "failed: unreadable media" and stored_huge_video.status == Analysis.Status.FAILED
    assert stored_huge_video.error == ("The file cannot be analysed: the video's frame size is 16000x16000 pixels "
                                       "(256,000,000), over the limit of 8,294,400 pixels")


def test_the_frame_view_refuses_a_stored_video_over_the_limit_before_decoding(client, researcher, stored_huge_video):
    client.force_login(researcher)
    started = time.perf_counter()
    res = client.get(reverse("research:frame", args=[stored_huge_video.pk, 0]))
    assert time.perf_counter() - started < 5
    assert res.status_code == 400
    assert "16000x16000 pixels" in res.content.decode()
