"""The JSON API: token authentication, owners only, uploads refused with reasons, exports."""

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from emotion.ml import EMOTIONS
from emotion.ml.results import COLUMNS
from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis
from tests.conftest import MEDIA, need
from tests.research.conftest import api_for, post_file

pytestmark = pytest.mark.django_db


def test_a_token_is_required():
    assert APIClient().get("/api/analyses/").status_code == 401


def test_upload_is_queued_after_commit(researcher, django_capture_on_commit_callbacks):
    client = api_for(researcher)
    with django_capture_on_commit_callbacks() as enqueued:
        res = post_file(client, need(MEDIA / "obama.jpg"), title="portrait")
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["status"] == "queued" and body["title"] == "portrait" and body["media"]["kind"] == "image"
    assert res["Location"].endswith(f"/analyses/{body['id']}/")
    assert len(enqueued) == 1                      # the job goes to the broker only once the row exists
    a = Analysis.objects.get(pk=body["id"])
    assert a.file.name.startswith("uploads/") and "obama" not in a.file.name   # a generated name


@pytest.mark.parametrize("case, words", [("empty", "empty"), ("text_as_mp4", "not an image"),
                                         ("huge_png", "limit"), ("truncated_mp4", "cannot be read")])
def test_bad_uploads_get_400_with_a_reason_and_leave_nothing(researcher, bad_media, settings, case, words):
    res = post_file(api_for(researcher), bad_media[case])
    assert res.status_code == 400
    assert words in res.json()["file"][0]
    assert Analysis.objects.count() == 0
    assert not list(settings.FILE_UPLOAD_TEMP_DIR.iterdir())
    uploads = settings.MEDIA_ROOT / "uploads"
    assert not uploads.exists() or not [p for p in uploads.rglob("*") if p.is_file() and p.stat().st_mtime > 0
                                        and p.name.endswith((".mp4", ".png"))]


def test_each_researcher_sees_only_their_own(researcher, other_researcher, django_user_model):
    post_file(api_for(researcher), need(MEDIA / "obama.jpg"))
    theirs = api_for(other_researcher)
    assert theirs.get("/api/analyses/").json()["count"] == 0
    pk = Analysis.objects.get().pk
    assert theirs.get(f"/api/analyses/{pk}/").status_code == 404
    assert theirs.get(f"/api/analyses/{pk}/results.csv").status_code == 404
    staff = django_user_model.objects.create_user("staff", is_staff=True)     # staff alone: no more than anyone
    assert api_for(staff).get("/api/analyses/").json()["count"] == 0
    root = django_user_model.objects.create_superuser("root", None, None)
    assert api_for(root).get("/api/analyses/").json()["count"] == 1


def test_results_as_csv_and_json(researcher):
    client = api_for(researcher)
    pk = post_file(client, need(MEDIA / "two_people.jpg")).json()["id"]
    a = Analysis.objects.get(pk=pk)
    run_analysis(a.pk, a.run_id)
    detail = client.get(f"/api/analyses/{pk}/").json()
    assert detail["status"] == "done" and detail["face_count"] == 2 and detail["summary"]["faces"] == 2

    res = client.get(f"/api/analyses/{pk}/results.csv")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))
    assert tuple(rows[0].keys()) == COLUMNS and len(rows) == 2
    assert all(abs(sum(float(r[e]) for e in EMOTIONS) - 1) < 1e-3 for r in rows)
    assert {r["model_version"] for r in rows} == {detail["model_version"]}

    data = json.loads(b"".join(client.get(f"/api/analyses/{pk}/results.json").streaming_content))
    assert data["kind"] == "image" and data["columns"] == list(COLUMNS) and len(data["results"]) == 2
    assert data["results"][0]["dominant"] in EMOTIONS


def test_rerun_and_delete(researcher, django_capture_on_commit_callbacks):
    client = api_for(researcher)
    pk = post_file(client, need(MEDIA / "obama.jpg")).json()["id"]
    a = Analysis.objects.get(pk=pk)
    run_analysis(a.pk, a.run_id)
    with django_capture_on_commit_callbacks() as enqueued:
        assert client.post(f"/api/analyses/{pk}/rerun/").json()["status"] == "queued"
    assert len(enqueued) == 1
    stored = Analysis.objects.get(pk=pk).file
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/analyses/{pk}/").status_code == 204
    assert not stored.storage.exists(stored.name)


def test_openapi_schema_describes_the_api(researcher):
    res = api_for(researcher).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert res.status_code == 200
    paths = json.loads(res.content)["paths"]
    assert {"/api/analyses/", "/api/analyses/{id}/", "/api/analyses/{id}/results.csv"} <= set(paths)
    assert "multipart/form-data" in paths["/api/analyses/"]["post"]["requestBody"]["content"]


def test_an_oversized_request_is_refused_before_its_body_is_read(researcher, settings):
    settings.FER_MAX_UPLOAD_MB = 0.1
    client = api_for(researcher)
    res = client.generic("POST", "/api/analyses/", b"x" * 10, content_type="multipart/form-data; boundary=zz",
                         CONTENT_LENGTH="5000000000")
    assert res.status_code == 400 and "limit is 0.1 MB" in res.json()["file"][0]


def test_csv_can_be_asked_for_by_its_type_and_unfinished_runs_are_not_rerun(researcher):
    client = api_for(researcher)
    pk = post_file(client, need(MEDIA / "obama.jpg")).json()["id"]
    assert client.post(f"/api/analyses/{pk}/rerun/").status_code == 409        # still queued
    a = Analysis.objects.get(pk=pk)
    run_analysis(a.pk, a.run_id)
    res = client.get(f"/api/analyses/{pk}/results.csv", HTTP_ACCEPT="text/csv")
    assert res.status_code == 200 and b"".join(res.streaming_content).startswith(b"frame,time,face_id")
