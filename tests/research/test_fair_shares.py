"""Fair shares (issue 18, finding 3): bounds on probes at once per web process and per user, on the
analyses one user may have queued or running, on files per upload of the page and per minute (the
page and the API counting together), and a job queue that takes users in turns. Real Redis, real
probes; the ordering and the per-process bound with a real Celery worker and a real daphne."""

import threading
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from emotion.research.analyses import shares
from emotion.research.models import Analysis
from tests import servers
from tests.conftest import CLIP, need
from tests.hostile_media import solid_jpeg
from tests.research.conftest import api_for, post_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list:
    d = tmp_path_factory.mktemp("fair-photos")
    out = []
    for i in range(12):
        path = d / f"photo{i:02d}.jpg"
        path.write_bytes(solid_jpeg(64 + i, 48))
        out.append(path)
    return out


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_upload(client, paths, **headers):
    handles = [open(p, "rb") for p in paths]
    try:
        return client.post("/analyses/", {"files": handles}, headers=headers)
    finally:
        for fh in handles:
            fh.close()


def test_a_page_upload_carries_at_most_ten_files(researcher, photos):
    client = page_client(researcher)
    res = page_upload(client, photos[:11], **{"X-Requested-With": "XMLHttpRequest"})
    assert Analysis.objects.count() == 0                    # nothing stored, not even the first ten
    page = client.get(res.json()["redirect"])
    assert "11 files were chosen; one upload may carry at most 10" in page.content.decode()
    res = page_upload(client, photos[:10])
    assert res.status_code == 302 and Analysis.objects.filter(owner=researcher).count() == 10


@override_settings(FER_UPLOADS_PER_USER=3, FER_UPLOAD_WINDOW_SECONDS=600)
def test_the_page_and_the_api_count_uploads_against_one_window(researcher, other_researcher, photos):
    assert page_upload(page_client(researcher), photos[:2]).status_code == 302
    api = api_for(researcher)
    assert post_file(api, photos[2]).status_code == 201
    refused = post_file(api, photos[3])
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 500 < wait <= 600
    assert "You may upload 3 files every 10 min; none fits now. Try again in 10 min." == refused.json()["detail"]
    page = page_upload(page_client(researcher), photos[4:5])
    assert page.status_code == 429 and page["Retry-After"]
    assert "You may upload 3 files every 10 min" in page.content.decode()
    assert Analysis.objects.filter(owner=researcher).count() == 3
    assert post_file(api_for(other_researcher), photos[5]).status_code == 201      # a share is per user


@pytest.fixture
def held_queue():
    """Jobs sent to a queue no worker reads: a worker started by an earlier test of the same run would
    otherwise finish these tiny photos between two uploads, and they would no longer count."""
    import redis
    from django.conf import settings

    from fersite.celery import app

    before, held = app.conf.task_default_queue, f"{servers.TEST_QUEUE}-held"
    app.conf.task_default_queue = held
    yield held
    app.conf.task_default_queue = before
    redis.Redis.from_url(settings.REDIS_URL).delete(*shares.queue_keys(held))


@override_settings(FER_JOBS_PER_USER=2)
def test_analyses_queued_or_running_are_bounded_per_user(researcher, other_researcher, photos, held_queue):
    api = api_for(researcher)
    first, second = (post_file(api, p) for p in photos[:2])
    assert first.status_code == second.status_code == 201
    refused = post_file(api, photos[2])
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert refused.json()["detail"].startswith("You have 2 analyses queued or running; that is the most one user")
    xhr = page_upload(page_client(researcher), photos[3:4], **{"X-Requested-With": "XMLHttpRequest"})
    assert xhr.status_code == 429 and xhr.json()["queued"] == 0 and "the limit is 2" in xhr.json()["detail"]
    assert post_file(api_for(other_researcher), photos[4]).status_code == 201
    Analysis.objects.filter(pk=first.json()["id"]).update(status="done")          # one finished
    assert post_file(api, photos[5]).status_code == 201
    rerun = api.post(f"/api/analyses/{first.json()['id']}/rerun/")                 # a re-run is a job too
    assert rerun.status_code == 429 and Analysis.objects.get(pk=first.json()["id"]).status == "done"
    assert Analysis.objects.filter(owner=researcher).count() == 3


@override_settings(FER_PROBES_PER_USER=1)
def test_probes_in_flight_are_bounded_per_user_across_processes(researcher, other_researcher, photos):
    """The lease is held here as another web process would hold it, through Redis."""
    api = api_for(researcher)
    with shares.user_probe(researcher):
        refused = post_file(api, photos[0])
        assert refused.status_code == 429 and refused["Retry-After"] == "5"
        assert "1 of your uploads are being checked already" in refused.json()["detail"]
        assert post_file(api_for(other_researcher), photos[1]).status_code == 201
    assert post_file(api, photos[2]).status_code == 201
    # a lease left by a process killed mid-probe stops counting once older than a probe can take
    import redis
    from django.conf import settings

    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    key = shares._leases_key(researcher)
    r.zadd(key, {"dead-process": time.time() - shares.lease_seconds() - 1})
    assert post_file(api, photos[3]).status_code == 201
    r.zadd(key, {"live-process": time.time()})
    assert post_file(api, photos[4]).status_code == 429
    r.delete(key)


@override_settings(FER_PROBES_PER_PROCESS=1, FER_PROBE_WAIT_SECONDS=0)
def test_an_upload_finding_no_probe_turn_is_told_to_retry(researcher, photos):
    api = api_for(researcher)
    with shares.probe_turn():
        busy = post_file(api, photos[0])
    assert busy.status_code == 503 and busy["Retry-After"] == "10"
    assert busy.json()["detail"] == "The server is checking other uploads right now. Try again in 10 s."
    assert Analysis.objects.count() == 0
    assert post_file(api, photos[0]).status_code == 201


def probes_of(pid: int) -> int:
    """How many probe processes ``pid`` has running now."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                if b"emotion.research.analyses.probe" in Path(f"/proc/{child}/cmdline").read_bytes():
                    count += 1
            except OSError:
                pass
    return count


def test_one_daphne_runs_at_most_its_share_of_probes_at_once(site_env, tmp_path):
    """The review's six simultaneous 7000 x 7000 JPEG uploads (six users, so no per-user bound is
    involved): daphne, allowed one probe at a time, runs them one after another, and all are accepted."""
    env = {**site_env, "FER_PROBES_PER_PROCESS": "1", "FER_PROBE_WAIT_SECONDS": "300"}
    proc, url = servers.start_daphne(env, servers.ARTIFACTS / "daphne-fair.log")
    try:
        jpeg = tmp_path / "huge.jpg"
        jpeg.write_bytes(solid_jpeg(7000, 7000))
        tokens = [Token.objects.create(user=User.objects.create_user(f"user{i}")).key for i in range(6)]
        answers, peak = [], 0

        def send(token):
            with open(jpeg, "rb") as fh:
                answers.append(requests.post(f"{url}/api/analyses/", files={"file": ("huge.jpg", fh)},
                                             headers={"Authorization": f"Token {token}"}, timeout=600))

        threads = [threading.Thread(target=send, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 600
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            peak = max(peak, probes_of(proc.pid))
            time.sleep(0.02)
        for t in threads:
            t.join(1)
        assert [a.status_code for a in answers] == [201] * 6, [a.content for a in answers]
        assert peak == 1            # seen at work, never two at once
    finally:
        servers.stop(proc)


def test_the_queue_takes_users_in_turns(researcher, other_researcher, celery_worker, photos):
    """One user's four videos, then another user's photo: the photo is the next job the worker takes
    (it waits for the video being analysed, not for the three queued behind it), and nothing is lost."""
    from django.utils import timezone

    api, other = api_for(researcher), api_for(other_researcher)
    videos = [post_file(api, need(CLIP), title=f"video {i}").json()["id"] for i in range(4)]
    photo = post_file(other, photos[0]).json()["id"]
    sent = timezone.now()
    deadline = time.monotonic() + 600
    while Analysis.objects.filter(pk__in=videos + [photo], status__in=["queued", "running"]).exists():
        assert time.monotonic() < deadline, "the jobs did not finish"
        time.sleep(0.2)
    done = {a.pk: a for a in Analysis.objects.filter(pk__in=videos + [photo])}
    assert all(a.status == "done" for a in done.values()), {a.pk: a.error for a in done.values()}   # none lost
    waiting = [v for v in videos if done[v].started_at > sent]          # still queued when the photo came
    assert len(waiting) >= 2, "the videos did not wait: the test proves nothing"
    assert all(done[v].started_at > done[photo].finished_at for v in waiting), (
        [(v, done[v].started_at) for v in videos], done[photo].started_at)
    assert sorted(videos, key=lambda v: done[v].started_at) == videos     # the user's own order is kept
