"""The live page, a visitor's own sessions and the admin, through Django's test client."""

import html as html_text
import json
import re

import pytest
from django.utils import timezone

from emotion.live.models import LiveSession
from emotion.ml import EMOTIONS
from emotion.ml.annotate import COLOURS
from emotion.ml.labels import EMOTION_COLOURS, UNRELIABLE_COLOUR
from emotion.ml.quality import RULE
from emotion.web.context_processors import LABEL_RULE

pytestmark = pytest.mark.django_db


def session_for(user, **kw):
    now = timezone.now()
    return LiveSession.objects.create(
        user=user, started_at=now - timezone.timedelta(seconds=12), ended_at=now, frames_received=120,
        frames_analysed=118, frames_with_faces=100, avg_fps=9.8, avg_latency_ms=31.0, model_version="m@1",
        emotion_share={"happy": 0.75, "neutral": 0.25},
        # "r": whether the followed face was reliable; the last point predates the flag (reliable)
        timeline=[{"t": 0.0, "p": [0.1, 0, 0, 0.7, 0.1, 0, 0.1], "r": 1},
                  {"t": 0.5, "p": [0, 0, 0, 0.8, 0.1, 0, 0.1], "r": 0},
                  {"t": 1.0, "p": [0, 0, 0, 0.8, 0.1, 0, 0.1]}], **kw)


def fer_emotions(html: str) -> dict:
    """The emotions, colours and reliability rule a page gives its scripts (#fer-emotions)."""
    found = re.search(r'<script id="fer-emotions" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page has no #fer-emotions script"
    return json.loads(found.group(1))


def test_one_palette_for_pages_and_annotated_media():
    assert tuple(EMOTION_COLOURS) == EMOTIONS
    for e, hex_colour in EMOTION_COLOURS.items():
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        assert COLOURS[e] == (b, g, r)
    # the colours annotated media had before the palette moved to labels.py
    assert COLOURS["angry"] == (40, 39, 214) and COLOURS["happy"] == (30, 176, 242)


@pytest.mark.parametrize("url", ["/", "/live/", "/accounts/login/"])
def test_every_page_gives_its_scripts_the_emotions_from_the_server(client, url):
    html = client.get(url).content.decode()
    fer = fer_emotions(html)
    series = fer.pop("series")
    assert fer == {"emotions": list(EMOTIONS), "colours": EMOTION_COLOURS, "unreliable": UNRELIABLE_COLOUR,
                   "rule": RULE, "label_rule": LABEL_RULE}
    assert len(set(series)) == len(series) >= 6 and not set(series) & set(EMOTION_COLOURS.values())
    # read before any page script runs, and no script keeps a list of its own
    assert html.index('id="fer-emotions"') < html.index("/static/live/colors.js")


def test_no_page_script_types_the_emotions_again():
    from django.conf import settings

    scripts = list((settings.BASE_DIR / "static").rglob("*.js"))
    assert scripts
    for path in scripts:
        text = path.read_text()
        for e in EMOTIONS:
            assert not re.search(rf"""["']{e}["']|\b{e}\s*:""", text), f"{path} names {e!r} itself"
        assert not re.search(r"#[0-9a-fA-F]{6}\b", text), f"{path} has a colour of its own"


def test_the_live_page_loads_chartjs_from_npm_and_its_script(client):
    res = client.get("/live/")
    assert res.status_code == 200
    html = res.content.decode()
    assert "/static/vendor/chartjs/chart.umd.min.js" in html and "/static/live/live.js" in html
    assert re.search(r'id="live-store"(?![^>]*checked)', html)            # consent is off by default
    assert '"wsPath": "/ws/live/"' in html
    # the server's limits reach the page in the socket's hello only (limits.py), never from here
    config = json.loads(re.search(r'id="live-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config == {"wsPath": "/ws/live/", "defaultFps": 10}
    assert not re.search(r'id="live-fps"[^>]*\bmax=', html)
    assert 'id="stat-reliable"' in html
    assert client.get("/static/vendor/chartjs/chart.umd.min.js").status_code == 200


def test_sessions_need_a_sign_in_and_show_only_ones_own(client, django_user_model):
    assert client.get("/live/sessions/").status_code == 302
    me = django_user_model.objects.create_user("me", password="pw-for-tests-1")
    other = django_user_model.objects.create_user("other", password="pw-for-tests-1")
    mine, theirs, anonymous = session_for(me), session_for(other), session_for(None)
    client.force_login(me)
    html = client.get("/live/sessions/").content.decode()
    assert f"/live/sessions/{mine.pk}/" in html
    assert f"/live/sessions/{theirs.pk}/" not in html and f"/live/sessions/{anonymous.pk}/" not in html
    assert client.get(f"/live/sessions/{theirs.pk}/").status_code == 404
    page = client.get(f"/live/sessions/{mine.pk}/").content.decode()
    assert 'id="timeline-chart"' in page and "75.0 %" in page
    assert fer_emotions(page)["emotions"] == list(EMOTIONS)
    assert "Share of the time with a reliable face" in page and RULE in page
    assert "1 of 3 points are unreliable" in page
    assert client.post(f"/live/sessions/{theirs.pk}/", {"action": "delete"}).status_code == 404
    client.post(f"/live/sessions/{mine.pk}/", {"action": "delete"})
    assert not LiveSession.objects.filter(pk=mine.pk).exists() and LiveSession.objects.filter(pk=theirs.pk).exists()


def test_the_admin_lists_filters_and_charts_sessions(admin_client, django_user_model):
    user = django_user_model.objects.create_user("visitor", password="pw-for-tests-1")
    s1, s2 = session_for(user), session_for(None)
    listing = admin_client.get("/admin/live/livesession/").content.decode()
    assert f"/admin/live/livesession/{s1.pk}/change/" in listing and f"/admin/live/livesession/{s2.pk}/change/" in listing
    filtered = admin_client.get(f"/admin/live/livesession/?user__id__exact={user.pk}").content.decode()
    assert f"/{s1.pk}/change/" in filtered and f"/{s2.pk}/change/" not in filtered
    anonymous = admin_client.get("/admin/live/livesession/?user__isempty=1").content.decode()
    assert f"/{s2.pk}/change/" in anonymous and f"/{s1.pk}/change/" not in anonymous
    page = admin_client.get(f"/admin/live/livesession/{s1.pk}/change/").content.decode()
    assert 'id="timeline-chart"' in page and 'id="timeline-data"' in page and "chart.umd.min.js" in page
    assert "happy: 75.0 %" in page
    assert fer_emotions(page)["unreliable"] == UNRELIABLE_COLOUR and "/static/live/colors.js" in page
    assert "3 (1 unreliable, drawn grey)" in page and RULE in page
    assert admin_client.get("/admin/live/livesession/add/").status_code == 403


def test_the_live_and_session_pages_say_why_a_label_can_differ_from_the_longest_bar(client, django_user_model):
    """The live page draws each face's label over the video; the session page shares time by label:
    both say, with the engine's own margin, why the label can be held against a longer bar."""
    from emotion.ml.labelling import LABEL_MARGIN

    me = django_user_model.objects.create_user("me", password="pw-for-tests-1")
    client.force_login(me)
    s = session_for(me)
    for url in ("/live/", f"/live/sessions/{s.pk}/"):
        html = client.get(url).content.decode()
        found = re.search(r'<p class="muted label-rule" id="label-rule">([^<]*)</p>', html)
        assert found, f"{url} does not explain the shown label"
        assert html_text.unescape(found.group(1)) == LABEL_RULE and f"more than {LABEL_MARGIN:g} above it" in LABEL_RULE
