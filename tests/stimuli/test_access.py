"""Who reaches a stimulus, on the pages and through the API: the study's owner and editors see and change
it, its viewers see it only (403 where they would change it), anyone else gets a 404 as for the study."""

import pytest

from emotion.stimuli.library import markers
from emotion.stimuli.models import EventMarker, Stimulus
from tests.conftest import MEDIA, need
from tests.research.conftest import api_for

pytestmark = pytest.mark.django_db


def reads(s, m) -> list:
    return [f"/stimuli/{s.pk}/", f"/stimuli/{s.pk}/media", f"/stimuli/{s.pk}/markers.csv"]


def page_changes(s, m) -> list:
    """(url, data) of every form that changes something, each a change that would succeed."""
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        image = fh.read()
    from django.core.files.uploadedfile import SimpleUploadedFile

    return [(f"/stimuli/{s.pk}/markers", {"name": "new", "start": "1", "end": "2"}),
            (f"/stimuli/{s.pk}/markers/{m.pk}", {"name": "moved", "start": "0", "end": "1"}),
            (f"/stimuli/{s.pk}/markers/{m.pk}/delete", {}),
            (f"/stimuli/{s.pk}/markers.csv", lambda: {"file": SimpleUploadedFile("m.csv", b"name,start,end\na,0,1\n")}),
            (f"/stimuli/{s.pk}/edit", {"title": "Renamed", "consent_text": ""}),
            (f"/stimuli/studies/{s.study_id}/upload", lambda: {"file": SimpleUploadedFile("o.jpg", image)}),
            (f"/stimuli/{s.pk}/delete", {})]


def post(client, url, data):
    return client.post(url, data() if callable(data) else data)


@pytest.mark.parametrize("who, read, change", [("owner", 200, 302), ("editor", 200, 302), ("viewer", 200, 403),
                                               ("outsider", 404, 404)])
def test_the_pages_follow_the_study_roles(people, video, client, who, read, change):
    m = markers.add(video, "m", 0, 1)
    client.force_login(people[who])
    assert [client.get(u).status_code for u in reads(video, m)] == [read] * 3
    statuses = [post(client, url, data).status_code for url, data in page_changes(video, m)]
    assert statuses == [change] * len(statuses), statuses
    if change != 302:                       # nothing of theirs was stored, nothing was lost
        assert Stimulus.objects.filter(pk=video.pk, title="Hamilton").exists() and Stimulus.objects.count() == 1
        assert list(EventMarker.objects.values_list("name", flat=True)) == ["m"]
    study_page = client.get(f"/analyses/studies/{people['study'].pk}/")
    if who == "outsider":
        assert study_page.status_code == 404
    else:
        html = study_page.content.decode()
        assert ('id="stimulus-upload"' in html) == (change == 302)
        assert 'id="stimuli"' in html


def test_a_viewer_sees_the_page_without_forms(people, video, client):
    markers.add(video, "m", 0, 1)
    client.force_login(people["viewer"])
    html = client.get(f"/stimuli/{video.pk}/").content.decode()
    assert 'id="marker-add"' not in html and 'id="marker-import"' not in html and 'id="stimulus-edit"' not in html
    assert "You will watch a short clip." in html and 'id="download-markers"' in html
    assert client.get("/stimuli/999999/").status_code == 404


def api_calls(s, m) -> list:
    """(method, url, body, format, status when allowed) of every API call that changes something."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return [("post", f"/api/stimuli/{s.pk}/markers/", {"name": "n", "start": 1, "end": 2}, "json", 201),
            ("patch", f"/api/stimuli/{s.pk}/markers/{m.pk}/", {"end": 3}, "json", 200),
            ("put", f"/api/stimuli/{s.pk}/markers/", [{"name": "a", "start": 0, "end": 1}], "json", 200),
            ("patch", f"/api/stimuli/{s.pk}/", {"title": "T"}, "json", 200),
            ("post", f"/api/studies/{s.study_id}/stimuli/",
             lambda: {"file": SimpleUploadedFile("o.jpg", need(MEDIA / "obama.jpg").read_bytes())}, "multipart", 201),
            ("delete", f"/api/stimuli/{s.pk}/", None, None, 204)]


@pytest.mark.parametrize("who, read, allowed", [("owner", 200, True), ("editor", 200, True), ("viewer", 200, False),
                                                ("outsider", 404, False)])
def test_the_api_follows_the_study_roles(people, video, who, read, allowed):
    m = markers.add(video, "m", 0, 1)
    api = api_for(people[who])
    got = [api.get(u).status_code for u in (f"/api/studies/{video.study_id}/stimuli/", f"/api/stimuli/{video.pk}/",
                                            f"/api/stimuli/{video.pk}/markers/", f"/api/stimuli/{video.pk}/markers/{m.pk}/",
                                            f"/api/stimuli/{video.pk}/markers.csv")]
    assert got == [read] * 5
    for method, url, body, fmt, ok in api_calls(video, m):
        res = getattr(api, method)(url, body() if callable(body) else body, format=fmt)
        expected = ok if allowed else (403 if who == "viewer" else 404)
        assert res.status_code == expected, (method, url, res.status_code, res.content[:200])
        if who == "viewer":
            assert "editor role" in res.json()["detail"]
    if not allowed:
        assert Stimulus.objects.filter(pk=video.pk, title="Hamilton").exists()
        assert list(EventMarker.objects.values_list("name", flat=True)) == ["m"]


def test_the_pages_carry_the_policy_and_no_inline_script(people, video, image, client):
    from tests.test_security import directives, inline_scripts

    people["owner"].is_staff = people["owner"].is_superuser = True
    people["owner"].save()
    client.force_login(people["owner"])
    for url in (f"/stimuli/{video.pk}/", f"/stimuli/{image.pk}/", f"/analyses/studies/{people['study'].pk}/",
                "/admin/stimuli/stimulus/", f"/admin/stimuli/stimulus/{video.pk}/change/", "/admin/research/variable/",
                "/admin/research/participantvalue/"):
        res = client.get(url)
        assert res.status_code == 200, url
        assert directives(res["Content-Security-Policy"])["script-src"] == ["'self'"], url
        assert inline_scripts(res.content.decode()) == [], url
