"""The stimuli API end to end (upload, read, change, markers one by one, all at once and as CSV, delete),
its refusals, and its place in the OpenAPI schema and the docs page."""

import pytest
from django.core.files.storage import default_storage

from emotion.stimuli.models import Stimulus
from tests.conftest import CLIP, MEDIA, need
from tests.research.conftest import api_for

pytestmark = pytest.mark.django_db


def test_the_round_trip(people, django_capture_on_commit_callbacks):
    api, study = api_for(people["editor"]), people["study"]
    with open(need(CLIP), "rb") as fh:
        res = api.post(f"/api/studies/{study.pk}/stimuli/", {"file": fh, "title": "Clip", "consent_text": "Hi"},
                       format="multipart")
    assert res.status_code == 201, res.content
    s = res.json()
    assert (s["kind"], s["media_format"], s["duration"], s["markers"]) == ("video", "mp4", 9.176, [])
    assert res["Location"] == s["url"] == f"http://testserver/stimuli/{s['id']}/"
    assert s["media"] == f"http://testserver/api/stimuli/{s['id']}/media"
    media = api.get(s["media"], HTTP_RANGE="bytes=0-99")
    assert media.status_code == 206 and media["Content-Type"] == "video/mp4" and len(b"".join(media.streaming_content)) == 100
    base = f"/api/stimuli/{s['id']}"

    one = api.post(f"{base}/markers/", {"name": "intro", "start": 0, "end": 2}, format="json")
    assert one.status_code == 201 and one.json()["name"] == "intro"
    bad = api.post(f"{base}/markers/", {"name": "late", "start": 5, "end": 10}, format="json")
    assert bad.status_code == 400 and bad.json() == {"end": ["The end (10 s) is after the stimulus ends (9.176 s)."]}
    mid = f"{base}/markers/{one.json()['id']}/"
    assert api.patch(mid, {"end": 1.5}, format="json").json() == {**one.json(), "end": 1.5}
    assert api.patch(mid, {"colour": "red"}, format="json").json() == {"detail": ["These cannot be changed: colour."]}
    assert api.patch(mid, {"start": 3}, format="json").json() == {"end": ["The end (1.5 s) is before the start (3 s)."]}

    listed = [{"name": "a", "start": 1, "end": 2}, {"name": "b", "start": 0, "end": 9.176}]
    put = api.put(f"{base}/markers/", listed, format="json")
    assert [(m["name"], m["start"], m["end"]) for m in put.json()] == [("b", 0, 9.176), ("a", 1, 2)]
    refused = api.put(f"{base}/markers/", [{"name": "ok", "start": 0, "end": 1}, {"name": "", "start": 0, "end": 1}],
                      format="json")
    assert refused.status_code == 400 and refused.json() == {"name": ["marker 2: Give the marker a name."]}
    assert len(api.get(f"{base}/markers/").json()) == 2                                # all or nothing

    exported = api.get(f"{base}/markers.csv")
    assert exported.content.decode() == "name,start,end\nb,0.0,9.176\na,1.0,2.0\n"
    csv_put = api.put(f"{base}/markers.csv", b"name,start,end\nscene 1,0,4.5\nscene 2,4.5,9\n", content_type="text/csv")
    assert csv_put.status_code == 200 and csv_put.json()["imported"] == 2
    bad_csv = api.put(f"{base}/markers.csv", b"name,start,end\nx,1,0\ny,0,99\n", content_type="text/csv")
    assert bad_csv.status_code == 400 and bad_csv.json() == {"file": [
        "line 2: The end (0 s) is before the start (1 s).", "line 3: The end (99 s) is after the stimulus ends (9.176 s)."]}
    assert [m["name"] for m in api.get(f"{base}/").json()["markers"]] == ["scene 1", "scene 2"]

    assert api.patch(f"{base}/", {"title": "Renamed", "consent_text": "Please"}, format="json").json()["title"] == "Renamed"
    assert api.patch(f"{base}/", {"duration": 20}, format="json").json() == {
        "duration": ["A video's duration is its own, read from the file."]}
    assert api.patch(f"{base}/", {"file": "x"}, format="json").status_code == 400
    assert [x["title"] for x in api.get(f"/api/studies/{study.pk}/stimuli/").json()] == ["Renamed"]

    name = Stimulus.objects.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{base}/").status_code == 204
    assert not Stimulus.objects.exists() and not default_storage.exists(name)


def test_an_image_takes_its_display_time(people):
    api = api_for(people["owner"])
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        res = api.post(f"/api/studies/{people['study'].pk}/stimuli/", {"file": fh, "duration": 3}, format="multipart")
    assert res.status_code == 201 and (res.json()["kind"], res.json()["duration"], res.json()["title"]) == ("image", 3, "obama")
    assert api.patch(f"/api/stimuli/{res.json()['id']}/", {"duration": 0}, format="json").json() == {
        "duration": ["An image is shown for more than 0 and at most 1800 seconds."]}


def test_the_schema_and_the_docs_page_list_the_stimuli_endpoints(people):
    api = api_for(people["viewer"])
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path, methods in (("/api/studies/{id}/stimuli/", {"get", "post"}),
                          ("/api/stimuli/{id}/", {"get", "patch", "delete"}),
                          ("/api/stimuli/{id}/markers/", {"get", "post", "put"}),
                          ("/api/stimuli/{id}/markers.csv", {"get", "put"}), ("/api/stimuli/{id}/media/", {"get"}),
                          ("/api/stimuli/{id}/markers/{marker_id}/", {"get", "patch", "put", "delete"})):
        assert methods <= set(paths.get(path, {})), path
    csv_put = paths["/api/stimuli/{id}/markers.csv"]["put"]
    assert {"text/csv", "multipart/form-data"} <= set(csv_put["requestBody"]["content"])
    assert "every bad line by number" in csv_put["responses"]["400"]["description"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
