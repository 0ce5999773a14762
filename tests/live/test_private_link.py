"""A stored session's private link (shown once, only its hash kept), its exports, and gaps where no face
was seen: through the real consumer, and the pages through Django's test client."""

import csv
import hashlib
import io
import json

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from emotion.live.access import key_hash, new_key
from emotion.live.models import LiveSession
from emotion.live.recorder import SessionRecorder, thinned
from emotion.ml import EMOTIONS

from .test_consumer import command, frames, live, reply

HAPPY = EMOTIONS.index("happy")


def stored(user=None, key=None, **kw):
    now = timezone.now()
    return LiveSession.objects.create(
        user=user, started_at=now - timezone.timedelta(seconds=4), ended_at=now, frames_received=40,
        frames_analysed=40, frames_with_faces=30, avg_fps=10.0, avg_latency_ms=20.0, model_version="m@1",
        emotion_share={"happy": 1.0}, access_key_hash=key_hash(key) if key else "",
        timeline=[{"t": 0.0, "p": [0.1, 0, 0.1, 0.6, 0.2, 0, 0], "r": 1, "d": "happy"},
                  {"t": 0.5, "p": [0.3, 0, 0, 0.5, 0, 0, 0.2], "r": 0, "d": "happy"},
                  {"t": 0.7, "p": None},                                  # the faces were lost here
                  {"t": 3.0, "p": [0, 0, 0, 0.1, 0.1, 0, 0.8], "r": 1}],  # stored before "d": argmax
        **kw)


# --- the recorder: gaps ---------------------------------------------------------------------------------
def face(dominant="happy"):
    return {"id": 1, "box": [0, 0, 50, 50], "dominant": dominant, "reliable": True,
            "probs": {e: (0.9 if e == dominant else 0.1 / 6) for e in EMOTIONS}}


def test_the_recorder_marks_where_the_faces_were_lost_once():
    rec = SessionRecorder(start=0.0, timeline_step=0.5)
    for i in range(10):                                   # 1 s with a face
        rec.analysed(i * 0.1, [face()], 1)
    for i in range(10, 40):                               # 3 s without: one gap point, not thirty
        rec.analysed(i * 0.1, [], 1)
    for i in range(40, 50):                               # the face is back
        rec.analysed(i * 0.1, [face("sad")], 1)
    timeline = rec.fields()["timeline"]
    assert [(p["t"], p["p"] is None) for p in timeline] == [(0.0, False), (0.5, False), (1.0, True), (4.0, False),
                                                            (4.5, False)]
    assert timeline[0]["d"] == "happy" and timeline[3]["d"] == "sad"


def test_thinning_keeps_every_gap_and_halves_a_flickering_face():
    rec = SessionRecorder(start=0.0, timeline_step=0.5, timeline_points=50)
    for i in range(1000):                                 # a face on every other frame, 10 frames/s
        rec.analysed(i * 0.1, [face()] if i % 2 == 0 else [], 1)
    timeline = rec.fields()["timeline"]
    assert len(timeline) <= 50 and timeline[-1]["t"] > 90          # capped, and still the whole session
    # a gap point only ever follows a face point
    assert all(b["p"] is not None for a, b in zip(timeline, timeline[1:]) if a["p"] is None)
    long_gap = [{"t": 0, "p": [0] * 7}, {"t": 0.1, "p": None}, {"t": 9.0, "p": [0] * 7}, {"t": 9.5, "p": [0] * 7}]
    assert [p["t"] for p in thinned(long_gap, 1.0)] == [0, 0.1, 9.0]              # the long gap survives


# --- the consumer hands the link out once ------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_storing_gives_a_private_link_whose_key_is_not_stored(clip_jpegs, client):
    async def go():
        async with live() as comm:
            started = await command(comm, type="start", store=True)
            await frames(comm, clip_jpegs[:3])
            await comm.send_to(text_data=json.dumps({"type": "stop"}))
            stopped = await reply(comm)
            again = await command(comm, type="start", store=False)
            return started, stopped, again

    started, stopped, again = async_to_sync(go)()
    assert "link" not in stopped and "link" not in again          # shown once, on "started" only
    session = LiveSession.objects.get(pk=started["session"])
    prefix = f"/live/s/{session.pk}/"
    assert started["link"].startswith(prefix) and started["link"].endswith("/")
    key = started["link"][len(prefix):-1]
    assert len(key) >= 43                                          # 32 random bytes
    assert session.access_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(list(LiveSession.objects.values()), default=str)
    page = client.get(started["link"])                             # an anonymous visitor, with the link
    assert page.status_code == 200 and b"timeline-chart" in page.content
    assert "no-store" in page["Cache-Control"]


# --- the pages ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_link_views_exports_and_deletes_with_the_right_key_only(client):
    key, other_key = new_key(), new_key()
    s, other = stored(key=key), stored(key=other_key)
    no_key = stored()                                              # stored before links existed
    base = f"/live/s/{s.pk}/{key}/"
    html = client.get(base).content.decode()
    assert "A face in 30 of 40 analysed frames (75.0 %)" in html
    assert f"{base}session.csv" in html and f"{base}session.json" in html
    assert "The lines break where no face was seen (1 time)" in html
    assert "← Your live sessions" not in html                      # an anonymous visitor has no list
    for url in [f"/live/s/{s.pk}/{other_key}/", f"/live/s/{other.pk}/{key}/", f"/live/s/{s.pk}/{key[:-1]}/",
                f"/live/s/{no_key.pk}/{key}/", f"/live/s/{s.pk}/{other_key}/session.csv",
                f"/live/s/{s.pk}/x/session.json", f"/live/s/{s.pk}/{key}/session.xml"]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/live/s/{s.pk}/{other_key}/", {"action": "delete"}).status_code == 404
    assert LiveSession.objects.filter(pk=s.pk).exists()
    res = client.get(f"{base}session.csv")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    assert f"live-session-{s.pk}-" in res["Content-Disposition"] and "attachment" in res["Content-Disposition"]
    res = client.post(base, {"action": "delete"})
    assert res.status_code == 302 and res["Location"] == "/live/"
    assert not LiveSession.objects.filter(pk=s.pk).exists() and LiveSession.objects.filter(pk=other.pk).exists()
    assert client.get(base).status_code == 404


@pytest.mark.django_db
def test_exports_parse_and_keep_the_gap(client, django_user_model):
    me = django_user_model.objects.create_user("me", password="pw-for-tests-1")
    s = stored(user=me)
    assert client.get(f"/live/sessions/{s.pk}/session.csv").status_code == 302         # sign in first
    client.force_login(me)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/live/sessions/{s.pk}/session.csv").content.decode())))
    assert list(rows[0]) == ["t", *EMOTIONS, "dominant", "top", "valence", "confidence", "reliable", "face"]
    assert [r["top"] for r in rows] == ["happy", "happy", "", "neutral"]
    assert [r["t"] for r in rows] == ["0.0", "0.5", "0.7", "3.0"]
    assert rows[0]["happy"] == "0.6" and rows[0]["dominant"] == "happy" and rows[0]["reliable"] == "1"
    assert float(rows[0]["valence"]) == pytest.approx(0.6 - 0.2)          # happy - max(angry, disgust, fear, sad)
    assert float(rows[1]["valence"]) == pytest.approx(0.5 - 0.3) and rows[1]["reliable"] == "0"
    assert rows[2]["face"] == "0" and rows[2]["happy"] == rows[2]["dominant"] == rows[2]["valence"] == ""
    assert rows[3]["dominant"] == "neutral"                                # no stored label: the most probable
    data = json.loads(client.get(f"/live/sessions/{s.pk}/session.json").content)
    assert data["session"] == s.pk and data["frames_with_faces"] == 30 and data["face_share"] == 0.75
    assert data["emotions"] == list(EMOTIONS) and data["model_version"] == "m@1"
    assert [p["face"] for p in data["timeline"]] == [1, 1, 0, 1]
    assert data["timeline"][2]["happy"] is None and data["timeline"][1]["reliable"] is False
    # someone else's session: not found, for its page and its exports
    other = django_user_model.objects.create_user("other", password="pw-for-tests-1")
    theirs = stored(user=other)
    assert client.get(f"/live/sessions/{theirs.pk}/session.json").status_code == 404


@pytest.mark.django_db
def test_exports_give_a_held_label_beside_the_most_probable(client, django_user_model):
    me = django_user_model.objects.create_user("me", password="pw-for-tests-1")
    s = stored(user=me)
    s.timeline[1]["d"] = "angry"            # held with hysteresis: happy (0.5) leads angry (0.3) by 0.2
    s.save()
    client.force_login(me)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/live/sessions/{s.pk}/session.csv").content.decode())))
    assert (rows[1]["dominant"], rows[1]["top"]) == ("angry", "happy")
    timeline = json.loads(client.get(f"/live/sessions/{s.pk}/session.json").content)["timeline"]
    assert [(p["dominant"], p["top"]) for p in timeline] == [("happy", "happy"), ("angry", "happy"), (None, None),
                                                               ("neutral", "neutral")]


@pytest.mark.django_db
def test_face_share_on_the_list_the_page_and_the_admin(client, admin_client, django_user_model):
    me = django_user_model.objects.create_user("me", password="pw-for-tests-1")
    s = stored(user=me)
    client.force_login(me)
    assert "75.0 %" in client.get("/live/sessions/").content.decode()
    assert "A face in 30 of 40 analysed frames (75.0 %)" in client.get(f"/live/sessions/{s.pk}/").content.decode()
    listing = admin_client.get("/admin/live/livesession/").content.decode()
    assert "frames with a face" in listing.lower() and "30 (75.0 %)" in listing
    page = admin_client.get(f"/admin/live/livesession/{s.pk}/change/").content.decode()
    assert f"/live/sessions/{s.pk}/session.csv" in page and "lost 1 time" in page
    assert admin_client.get(f"/live/sessions/{s.pk}/session.json").status_code == 200     # staff see all
    assert 'id="stat-face"' in client.get("/live/").content.decode()
