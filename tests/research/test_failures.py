"""Failures answered, nothing broken: Redis unreachable (a real daphne pointed at a closed port),
bad text in any field (NUL bytes refused with the field named, on PostgreSQL too), error bodies that
say what went wrong."""

import asyncio
import json
import socket
import uuid

import pytest
import requests
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from kombu.exceptions import OperationalError
from rest_framework.authtoken.models import Token

from emotion.live.models import LiveSession
from emotion.research.analyses import services
from emotion.research.api.serializers import UploadSerializer
from emotion.research.models import Analysis
from emotion.web.badtext import first_problem
from tests import servers
from tests.conftest import MEDIA, need
from tests.research.conftest import api_for, post_file, upload

UNAVAILABLE = "job queue is unavailable"


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]          # released on close, and nothing else asked for it


def stored_uploads() -> list:
    root = settings.MEDIA_ROOT / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- Redis down: a real daphne whose REDIS_URL points at a closed port ----------------------------
@pytest.fixture(scope="module")
def daphne_without_redis(site_env):
    env = {**site_env, "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}
    proc, url = servers.start_daphne(env, servers.ARTIFACTS / "daphne-no-redis.log")
    yield url
    servers.stop(proc)


@pytest.fixture
def account(transactional_db):
    user = User.objects.create_user(f"r-{uuid.uuid4().hex[:8]}", password="a-long-password-9")
    return user, Token.objects.create(user=user).key


@pytest.mark.django_db(transaction=True)
def test_an_api_upload_without_redis_is_a_503_with_a_reason_and_stores_nothing(daphne_without_redis, account):
    user, key = account
    before = stored_uploads()
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        res = requests.post(f"{daphne_without_redis}/api/analyses/", files={"file": fh}, data={"title": "t"},
                            headers={"Authorization": f"Token {key}"}, timeout=60)
    assert res.status_code == 503, res.text
    assert UNAVAILABLE in res.json()["detail"] and res.headers["Retry-After"] == "60"
    assert Analysis.objects.count() == 0 and stored_uploads() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("xhr", [True, False], ids=["xhr", "form"])
def test_a_page_upload_without_redis_is_a_503_with_a_reason_and_stores_nothing(daphne_without_redis, account, xhr):
    user, _ = account
    before = stored_uploads()
    http = servers.signed_in(user)
    headers = {"X-Requested-With": "XMLHttpRequest"} if xhr else {}
    with open(need(MEDIA / "obama.jpg"), "rb") as a, open(need(MEDIA / "two_people.jpg"), "rb") as b:
        res = http.post(f"{daphne_without_redis}/analyses/", files=[("files", a), ("files", b)],
                        data={"title": "both"}, headers=headers, timeout=60, allow_redirects=False)
    assert res.status_code == 503, res.text[:2000]
    if xhr:
        assert UNAVAILABLE in res.json()["detail"]          # the page's script shows it
    else:
        assert UNAVAILABLE in res.text and "<html" in res.text
    assert Analysis.objects.count() == 0 and stored_uploads() == before


@pytest.mark.django_db(transaction=True)
def test_sign_in_and_its_throttle_work_without_redis(daphne_without_redis, account):
    """The failure counters fall back to the process: a wrong password is the form again, not a 500."""
    user, _ = account
    http = requests.Session()
    http.get(f"{daphne_without_redis}/accounts/login/", timeout=60)
    form = {"csrfmiddlewaretoken": http.cookies["csrftoken"], "username": user.username}
    wrong = http.post(f"{daphne_without_redis}/accounts/login/", data={**form, "password": "not-the-password"},
                      timeout=60, allow_redirects=False)
    assert wrong.status_code == 200 and "did not match" in wrong.text
    right = http.post(f"{daphne_without_redis}/accounts/login/", data={**form, "password": "a-long-password-9"},
                      timeout=60, allow_redirects=False)
    assert right.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_rerun_without_redis_is_a_503_and_leaves_the_analysis_as_it_was(daphne_without_redis, account):
    user, key = account
    done = Analysis.objects.create(owner=user, kind="image", file="uploads/x.jpg", original_name="x.jpg",
                                   size_bytes=1, media_format="jpeg", status=Analysis.Status.DONE)
    res = requests.post(f"{daphne_without_redis}/api/analyses/{done.pk}/rerun/",
                        headers={"Authorization": f"Token {key}"}, timeout=60)
    assert res.status_code == 503 and UNAVAILABLE in res.json()["detail"]
    again = Analysis.objects.get(pk=done.pk)
    assert again.status == Analysis.Status.DONE and again.run_id == done.run_id


@pytest.fixture(scope="module")
def face_jpeg() -> bytes:
    import cv2

    from tests.live.conftest import to_jpeg

    return to_jpeg(cv2.imread(str(need(MEDIA / "obama.jpg"))), 320)


@pytest.mark.django_db(transaction=True)
def test_the_live_socket_works_without_redis(daphne_without_redis, face_jpeg):
    """Analysis needs no channel layer: frames are answered, and a consenting session is stored (its
    per-address count kept in the process while Redis is down). Before, the socket closed with 1011."""
    from websockets.asyncio.client import connect

    url = daphne_without_redis.replace("http://", "ws://") + "/ws/live/"

    async def go():
        async with connect(url, origin=daphne_without_redis, max_size=2 ** 20) as ws:
            got = [json.loads(await asyncio.wait_for(ws.recv(), 60))]
            await ws.send(json.dumps({"type": "start", "store": True}))
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
            await ws.send(face_jpeg)
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
            await asyncio.sleep(6)                  # longer than channels_redis's blocking receive
            await ws.send(face_jpeg)
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
            await ws.send(json.dumps({"type": "stop"}))
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
            return got

    hello, started, first, second, stopped = async_to_sync(go)()
    assert hello["type"] == "hello"
    assert started["type"] == "started" and started["store"] is True
    assert first["type"] == second["type"] == "result" and len(second["faces"]) == 1
    assert stopped["type"] == "stopped" and stopped["stored"] is True
    assert LiveSession.objects.get(pk=started["session"]).frames_analysed == 2


@pytest.mark.django_db(transaction=True)
def test_a_send_that_fails_after_the_commit_removes_the_row_and_its_file(researcher, monkeypatch):
    """The broker answered the check, then went away before the job was sent."""
    from emotion.research.tasks import analyse

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(analyse, "delay", down)
    before = stored_uploads()
    res = post_file(api_for(researcher), need(MEDIA / "obama.jpg"), title="lost")
    assert res.status_code == 503 and UNAVAILABLE in res.json()["detail"]
    assert Analysis.objects.count() == 0 and stored_uploads() == before

    done = Analysis.objects.create(owner=researcher, kind="image", file="uploads/y.jpg", original_name="y.jpg",
                                   size_bytes=1, media_format="jpeg", status=Analysis.Status.DONE)
    with pytest.raises(services.QueueUnavailable):
        services.rerun(done)
    failed = Analysis.objects.get(pk=done.pk)    # it cannot stay "queued" with no job: it says to re-run
    assert failed.status == Analysis.Status.FAILED and "Re-run it" in failed.error


# --- bad text in any field ----------------------------------------------------------------------
BAD = {"nul": ("a\x00b", "NUL byte"), "bell": ("ring\x07", "control character (U+0007)"),
       "escape": ("\x1b[31mred", "control character (U+001B)")}


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "notes"])
@pytest.mark.parametrize("bad", list(BAD))
def test_bad_text_on_the_upload_page_is_a_400_naming_the_field(client, researcher, field, bad):
    value, words = BAD[bad]
    client.force_login(researcher)
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        res = client.post("/analyses/", {"files": fh, field: value}, headers={"X-Requested-With": "XMLHttpRequest"})
    assert res.status_code == 400
    detail = res.json()["detail"]
    assert f'"{field}"' in detail and words in detail
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:           # a plain form post gets a page saying it
        page = client.post("/analyses/", {"files": fh, field: value})
    assert page.status_code == 400 and f"&quot;{field}&quot;" in page.content.decode()
    assert Analysis.objects.count() == 0


@pytest.mark.django_db
def test_tabs_and_line_breaks_in_notes_are_ordinary_text(client, researcher, django_capture_on_commit_callbacks):
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(), open(need(MEDIA / "obama.jpg"), "rb") as fh:
        res = client.post("/analyses/", {"files": fh, "title": "t", "notes": "line 1\r\n\tline 2"})
    assert res.status_code == 302
    assert Analysis.objects.get().notes == "line 1\r\n\tline 2"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "notes"])
def test_bad_text_in_api_fields_is_a_400_naming_the_field(researcher, field):
    api = api_for(researcher)
    res = post_file(api, need(MEDIA / "obama.jpg"), **{field: "x\x00y"})
    assert res.status_code == 400
    assert any("NUL" in m or "Null" in m for m in res.json()[field])
    res = post_file(api, need(MEDIA / "obama.jpg"), **{field: "x\x0cy"})
    assert res.status_code == 400 and "control character" in res.json()[field][0]
    assert Analysis.objects.count() == 0


def test_an_unpaired_surrogate_is_refused_by_the_rule_too():
    # A form body cannot carry one (it is not UTF-8), but a value built in Python can.
    form = UploadSerializer(data={"title": "half \ud83d of an emoji"})
    assert not form.is_valid() and "surrogate" in str(form.errors["title"])
    assert "surrogate" in first_problem([("notes", "\udc00")])
    assert first_problem([("notes", "emoji 😀 and é, tab\tand\nlines")]) is None


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_a_nul_in_the_user_name_at_sign_in_is_a_400_naming_the_field(client, path):
    res = client.post(path, {"username": "ada\x00", "password": "whatever-long"}, REMOTE_ADDR="10.77.0.1")
    assert res.status_code == 400 and "&quot;username&quot;" in res.content.decode()


@pytest.mark.django_db
def test_a_nul_in_a_query_parameter_is_a_400(client, researcher):
    client.force_login(researcher)
    res = client.get("/analyses/", {"page": "1\x00"})
    assert res.status_code == 400 and "&quot;page&quot;" in res.content.decode()


@pytest.mark.django_db
def test_a_nul_in_a_file_name_is_dropped_not_a_500(researcher):
    """Django strips non-printable characters from upload names: the row stores fine on PostgreSQL."""
    res = api_for(researcher).post("/api/analyses/", {"file": upload(need(MEDIA / "obama.jpg"), "ob\x00ama.jpg")},
                                   format="multipart")
    assert res.status_code == 201, res.content
    assert Analysis.objects.get().original_name == "obama.jpg"


# --- error bodies that say what went wrong --------------------------------------------------------
@pytest.mark.django_db
def test_results_csv_errors_say_what_went_wrong(researcher):
    missing = api_for(researcher).get("/api/analyses/999999/results.csv", HTTP_ACCEPT="text/csv")
    assert missing.status_code == 404
    assert missing.content.decode().strip() == "No Analysis matches the given query."
    anonymous = Client().get("/api/analyses/1/results.csv", HTTP_ACCEPT="text/csv")
    assert anonymous.status_code == 401 and "credentials were not provided" in anonymous.content.decode()


# --- a whole worker killed ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_whole_worker_killed_has_its_job_queued_again_by_another_worker(site_env, researcher, monkeypatch):
    """Killing the worker's main process with its pool leaves nobody to reject the job back to the queue:
    Redis would hand it out again only after its 40-minute visibility timeout. The other workers' watch
    sees that the job's heartbeat stopped and queues it again (emotion/research/analyses/liveness.py)."""
    import os
    import signal
    import time

    import redis

    from emotion.research.tasks import analyse
    from tests.conftest import CLIP

    queue = f"{servers.TEST_QUEUE}-whole"
    env = {**site_env, "FER_CELERY_QUEUE": queue, "FER_JOB_HEARTBEAT_SECONDS": "6", "FER_JOB_WATCH_SECONDS": "2"}
    monkeypatch.setattr(analyse, "delay", lambda *args: analyse.apply_async(args, queue=queue))
    first = servers.start_worker(env, servers.ARTIFACTS / "celery-whole-1.log", name="whole1")
    second = None
    try:
        pk = services.create_analysis(researcher, upload(need(CLIP)), "killed whole").pk
        deadline, killed_at = time.monotonic() + 90, None
        while time.monotonic() < deadline and killed_at is None:
            a = Analysis.objects.get(pk=pk)
            if a.status == "running" and a.progress < 0.9:    # claimed, and a way to go
                children = servers.pool_children(first)
                for pid in [first.pid, *children]:          # the machine's OOM killer, say: all at once
                    os.kill(pid, signal.SIGKILL)
                first.wait()
                killed_at = time.monotonic()
            time.sleep(0.05)
        assert killed_at is not None, "never saw the job running"
        assert Analysis.objects.get(pk=pk).status == "running"        # nobody left to say otherwise
        second = servers.start_worker(env, servers.ARTIFACTS / "celery-whole-2.log", name="whole2")
        requeued_after = None
        while time.monotonic() < killed_at + 150:
            a = Analysis.objects.get(pk=pk)
            if requeued_after is None and (a.status == "queued" or a.attempts >= 2):
                requeued_after = time.monotonic() - killed_at
            if a.finished:
                break
            time.sleep(0.2)
        assert a.status == "done", (a.status, a.error)
        assert requeued_after is not None and requeued_after < 60, requeued_after   # not 40 minutes
        assert a.attempts == 2
        assert a.summary["frames_analysed"] > 0 and a.result_count > 0
        assert a.results.count() == a.result_count                                  # one complete set
        assert "worker stopped beating; queued again" in (servers.ARTIFACTS / "celery-whole-2.log").read_text()
    finally:
        for proc in (first, second):
            if proc is not None:
                servers.stop(proc)
        redis.Redis.from_url(settings.REDIS_URL).delete(queue)
