"""The researcher's pages with Django's test client, and the progress socket with a real channel layer."""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from emotion.ml.quality import RULE
from emotion.research.analyses import progress
from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis
from emotion.research.routing import websocket_urlpatterns
from tests.conftest import CLIP, MEDIA, need


@pytest.fixture
def signed_in(client, researcher):
    client.force_login(researcher)
    return client


def test_pages_need_a_sign_in(client, db):
    res = client.get("/analyses/")
    assert res.status_code == 302 and res["Location"].startswith("/accounts/login/")


def test_upload_several_files_refusing_the_bad_one_by_name(signed_in, bad_media, django_capture_on_commit_callbacks):
    with open(need(MEDIA / "obama.jpg"), "rb") as good, open(bad_media["text_as_mp4"], "rb") as bad:
        with django_capture_on_commit_callbacks() as enqueued:
            res = signed_in.post("/analyses/", {"files": [good, bad], "title": "batch"}, follow=True)
    page = res.content.decode()
    assert "notes.mp4: This is not an image" in page
    assert "1 file queued for analysis" in page
    assert Analysis.objects.count() == 1 and len(enqueued) == 1
    assert "batch · obama.jpg" in page


def test_a_bad_frame_step_is_a_message_not_an_error(signed_in):
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        res = signed_in.post("/analyses/", {"files": [fh], "frame_step": "often"}, follow=True)
    assert res.status_code == 200 and "whole number" in res.content.decode()


@pytest.mark.django_db
def test_timeline_page_frames_and_downloads(signed_in, researcher):
    with open(need(CLIP), "rb") as fh:
        res = signed_in.post("/analyses/", {"files": [fh], "title": "talk"})
    a = Analysis.objects.get()
    assert res["Location"] == f"/analyses/{a.pk}/"
    run_analysis(a.pk, a.run_id)
    page = signed_in.get(f"/analyses/{a.pk}/").content.decode()
    assert 'id="emotion-chart"' in page and 'id="face-select"' in page and "Download CSV" in page
    # the scripts get the emotions and their colours from the server; the page says what grey means
    assert '<script id="fer-emotions" type="application/json">' in page
    assert page.index('id="fer-emotions"') < page.index("/static/research/timeline.js")
    assert 'id="unreliable-legend"' in page and f"rule: {RULE}" in page and 'id="share-note"' in page
    a.refresh_from_db()
    left_out = a.summary["results_left_out"]
    assert 0 < left_out < a.summary["results"]          # the clip has tracked boxes, which are unreliable
    assert f"{left_out} of {a.summary['results']} results unreliable" in page
    frame = a.results.first().frame
    img = signed_in.get(f"/analyses/{a.pk}/frames/{frame}.jpg")
    assert img.status_code == 200 and img.content[:3] == b"\xff\xd8\xff"
    assert signed_in.get(f"/analyses/{a.pk}/frames/99999.jpg").status_code == 404
    csv_text = b"".join(signed_in.get(f"/analyses/{a.pk}/results.csv").streaming_content).decode()
    assert csv_text.startswith("frame,time,face_id,") and csv_text.count("\n") == a.results.count() + 1
    video = signed_in.get(f"/analyses/{a.pk}/annotated")
    assert video.status_code == 200 and b"ftyp" in b"".join(video.streaming_content)[:32]


@pytest.mark.django_db
def test_someone_elses_analysis_does_not_exist_for_you(client, researcher, other_researcher):
    a = Analysis.objects.create(owner=researcher, kind="image", original_name="x.jpg", size_bytes=1,
                                media_format="jpeg", file="uploads/x.jpg")
    client.force_login(other_researcher)
    for url in (f"/analyses/{a.pk}/", f"/analyses/{a.pk}/results.csv", f"/analyses/{a.pk}/frames/0.jpg"):
        assert client.get(url).status_code == 404
    assert client.post(f"/analyses/{a.pk}/delete").status_code == 404
    assert Analysis.objects.filter(pk=a.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_pushed_to_the_owner_only(researcher, other_researcher):
    a = Analysis.objects.create(owner=researcher, kind="image", original_name="x.jpg", size_bytes=1,
                                media_format="jpeg", file="uploads/x.jpg")
    app = URLRouter(websocket_urlpatterns)

    async def watch(user):
        comm = WebsocketCommunicator(app, f"/ws/analyses/{a.pk}/")
        comm.scope["user"] = user
        connected, code = await comm.connect()
        return comm, connected, code

    async def scenario():
        stranger, ok, code = await watch(other_researcher)
        assert not ok and code == 4403
        owner, ok, _ = await watch(researcher)
        assert ok
        first = await owner.receive_json_from()
        assert first["type"] == "state" and first["status"] == "queued"
        a.status, a.progress = "running", 0.25
        from channels.db import database_sync_to_async

        await database_sync_to_async(progress.push)(a)
        pushed = await owner.receive_json_from(timeout=5)
        assert pushed["status"] == "running" and pushed["progress"] == 0.25
        a.progress = 0.5
        progress.push(a)          # sync code called inside the event loop's own thread: still delivered
        pushed = await owner.receive_json_from(timeout=5)
        assert pushed["progress"] == 0.5
        await owner.send_to(text_data="not json")
        assert (await owner.receive_json_from())["type"] == "error"
        await owner.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_the_original_is_served_as_what_it_is_not_as_its_name_says(signed_in, researcher):
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        from django.core.files.uploadedfile import SimpleUploadedFile

        evil = SimpleUploadedFile("evil.html", fh.read(), content_type="text/html")
    signed_in.post("/analyses/", {"files": [evil]})
    a = Analysis.objects.get()
    res = signed_in.get(f"/analyses/{a.pk}/original")
    assert res["Content-Type"] == "image/jpeg" and res["Content-Disposition"].startswith("attachment")
    assert res["X-Content-Type-Options"] == "nosniff"
    assert b"".join(res.streaming_content)[:3] == b"\xff\xd8\xff"


@pytest.mark.django_db
def test_the_timeline_opens_on_the_main_face(signed_in, researcher):
    """Face #1, seen on two frames, came first; the face with the most reliable frames does now, and
    each choice says how much of the video it is in."""
    from emotion.research.analyses.summary import summarise
    from emotion.research.models import FrameResult
    from tests.research.study_data import add_result, make_analysis

    a = make_analysis(researcher, frame_count=20)
    for frame in range(2):
        add_result(a, frame, {"fear": .9}, face_id=1)
    for frame in range(12):
        add_result(a, frame, {"happy": .9}, face_id=3, reliable=frame >= 2)
    for frame in range(16):
        add_result(a, frame, {"sad": .9}, face_id=2, reliable=frame < 4)
    rows = FrameResult.objects.filter(analysis=a).order_by("frame", "face_id").values()
    Analysis.objects.filter(pk=a.pk).update(summary=summarise(rows, 20))
    page = signed_in.get(f"/analyses/{a.pk}/").content.decode()
    options = re.findall(r'<option value="(\d+)">([^<]*)</option>', page)
    assert [v for v, _ in options] == ["3", "2", "1"]
    assert "in 60% of the video · 12 frames (10 reliable)" in options[0][1]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["video", "image"])
def test_the_analysis_page_says_why_a_label_can_differ_from_the_longest_bar(signed_in, researcher, kind):
    """The timeline, the frame viewer (video) and the result table (image) draw labels: the page says
    once, with the engine's own margin and time, why a label can be held against a longer bar."""
    from emotion.ml.labelling import LABEL_MARGIN, LABEL_STEPS, NOMINAL_FPS
    from emotion.research.analyses.summary import summarise
    from emotion.research.models import FrameResult
    from tests.research.study_data import add_result, make_analysis

    a = make_analysis(researcher, frame_count=2)
    add_result(a, 0, {"happy": .9, "fear": .1})
    add_result(a, 1, {"fear": .37, "happy": .523, "neutral": .107}, dominant="fear")    # held
    rows = FrameResult.objects.filter(analysis=a).values()
    Analysis.objects.filter(pk=a.pk).update(kind=kind, summary=summarise(rows, 2))
    page = signed_in.get(f"/analyses/{a.pk}/").content.decode()
    rule = re.search(r'<p class="muted label-rule" id="label-rule">([^<]*)</p>', page)
    assert rule, "the analysis page does not explain the shown label"
    assert f"more than {LABEL_MARGIN:g} above it" in rule.group(1)
    assert f"{LABEL_STEPS / NOMINAL_FPS:.2g} s in a row" in rule.group(1) and "top" in rule.group(1)
