"""A real Celery worker process and real Redis: uploads through the API are analysed end to end,
bad files end as readable failures while the worker keeps serving, and a worker killed in the middle
of a video still leaves exactly one complete result."""

import os
import signal
import subprocess
import sys
import time

import pytest

from emotion.research.models import Analysis, FrameResult
from tests import servers
from tests.conftest import CLIP, MEDIA, ROOT, need
from tests.research.conftest import api_for, post_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(researcher):
    return api_for(researcher)


def submit(api, path, **fields) -> int:
    res = post_file(api, path, **fields)
    assert res.status_code == 201, res.content
    return res.json()["id"]


def wait_finished(api, pk: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/api/analyses/{pk}/").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"analysis {pk} still {body['status']} after {timeout} s")


@pytest.fixture(scope="module")
def cli_rows(tmp_path_factory):
    """The command-line analysis of the shared clip: what the web path must reproduce."""
    out = tmp_path_factory.mktemp("cli") / "clip.csv"
    subprocess.run([sys.executable, "manage.py", "analyze", str(need(CLIP)), "--format", "csv", "--out", str(out),
                    "--no-progress"], cwd=ROOT, check=True, capture_output=True)
    import csv

    return list(csv.DictReader(out.open()))


def test_the_clip_uploaded_through_the_api_matches_the_command_line(api, celery_worker, cli_rows):
    pk = submit(api, need(CLIP), title="clip")
    body = wait_finished(api, pk)
    assert body["status"] == "done", body["error"]
    assert body["summary"]["frames_analysed"] == 275
    rows = list(FrameResult.objects.filter(analysis_id=pk).values_list("frame", "face_id", "dominant"))
    assert len(rows) == len(cli_rows) == body["result_count"]
    assert [(r[0], r[1]) for r in rows] == [(int(c["frame"]), int(c["face_id"])) for c in cli_rows]
    same = sum(r[2] == c["dominant"] for r, c in zip(rows, cli_rows))
    assert same >= 0.98 * len(rows)        # float rounding across thread counts may flip a near tie
    assert Analysis.objects.get(pk=pk).annotated.name.endswith(".mp4")


def test_bad_files_fail_readably_and_the_worker_keeps_serving(api, celery_worker, bad_media):
    truncated = submit(api, bad_media["truncated_avi"])
    no_faces = submit(api, bad_media["no_faces"])
    good = submit(api, need(MEDIA / "obama.jpg"))
    t = wait_finished(api, truncated)
    assert t["status"] == "failed" and "truncated or damaged" in t["error"]
    n = wait_finished(api, no_faces)
    assert n["status"] == "done" and n["notice"] == "No faces were found in this video." and n["result_count"] == 0
    g = wait_finished(api, good)
    assert g["status"] == "done" and g["face_count"] == 1
    assert celery_worker.poll() is None


def test_a_worker_killed_mid_video_still_finishes_the_analysis_once(api, celery_worker, cli_rows):
    pk = submit(api, need(CLIP), title="killed")
    deadline = time.monotonic() + 60
    killed = None
    while time.monotonic() < deadline and killed is None:
        a = Analysis.objects.get(pk=pk)
        if a.status == "running" and 0.1 <= a.progress <= 0.8:
            children = servers.pool_children(celery_worker)
            assert children, "the worker has no pool process"
            for pid in children:
                os.kill(pid, signal.SIGKILL)          # the process running the job dies at once
            killed = a.progress
        time.sleep(0.05)
    assert killed is not None, "never saw the job half way"
    body = wait_finished(api, pk, timeout=180)
    a = Analysis.objects.get(pk=pk)
    assert body["status"] == "done", body["error"]
    assert a.attempts == 2                            # re-delivered once, after the kill
    assert a.summary["frames_analysed"] == 275
    assert FrameResult.objects.filter(analysis=a).count() == a.result_count == len(cli_rows)
    log = (servers.ARTIFACTS / "celery-worker.log").read_text()
    assert "WorkerLostError" in log or "SIGKILL" in log or "signal 9" in log
    assert celery_worker.poll() is None               # the worker itself lives on and took a new pool process
