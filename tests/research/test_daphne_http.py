"""The ASGI side of uploads and downloads: oversized uploads are refused from their headers, and
downloads stream through a real daphne (Django would otherwise gather a synchronous iterator whole in
memory under ASGI)."""

import json
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from emotion.research.analyses import services
from emotion.research.analyses.runner import run_analysis
from tests import servers
from tests.conftest import CLIP, need
from tests.research.conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_oversized_upload_is_refused_before_django_spools_its_body():
    """The site's ASGI application answers from the headers alone: it never asks for the body.
    (daphne itself buffers a request body before calling the application and has no size limit of
    its own, so in production a proxy caps bodies too; see the README.)"""
    from asgiref.sync import async_to_sync

    from fersite.asgi import application

    sent = []

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/analyses/", "headers": [
        (b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", str(50 * 1000**3).encode())],
        "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}
    async_to_sync(application)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert "at most" in json.loads(sent[1]["body"])["detail"]


@pytest.mark.parametrize("path,size", [("/analyses/studies/7/", 5_000_000), ("/analyses/7/labels", 4_000_000),
                                       ("/api/analyses/7/labels/", 4_000_000), ("/analyses/", 5_000_000)])
def test_study_page_and_hand_label_uploads_get_the_upload_cap_not_the_form_cap(path, size):
    """A 5 MB clip on a study's page and a 4 MB hand-label file were refused as 1,000 KB forms."""
    from asgiref.sync import async_to_sync

    from fersite.asgi import application

    class BodyAsked(Exception):
        pass

    async def receive():
        raise BodyAsked                  # past the header check: Django wants the body

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": [
        (b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", str(size).encode())],
        "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}
    with pytest.raises(BodyAsked):
        async_to_sync(application)(scope, receive, send)
    assert not sent
    scope["path"] = "/accounts/login/"                      # any other form keeps the small cap
    async_to_sync(application)(scope, receive, send)
    assert sent[0]["status"] == 413


def test_downloads_stream_through_daphne(daphne_url, researcher):
    a = services.create_analysis(researcher, upload(need(CLIP)))
    run_analysis(a.pk, a.run_id)
    a.refresh_from_db()
    token = Token.objects.create(user=researcher).key
    log_before = (servers.ARTIFACTS / "daphne.log").read_text()

    def get(path, accept="*/*"):
        req = urllib.request.Request(daphne_url + path, headers={"Authorization": f"Token {token}", "Accept": accept})
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.headers, res.read()

    headers, body = get(f"/api/analyses/{a.pk}/results.csv", accept="text/csv")
    assert headers["Content-Type"].startswith("text/csv") and body.decode().count("\n") == a.result_count + 1
    headers, body = get(f"/api/analyses/{a.pk}/results.json")
    assert len(json.loads(body)["results"]) == a.result_count
    log = (servers.ARTIFACTS / "daphne.log").read_text()[len(log_before):]
    assert "must consume synchronous iterators" not in log
