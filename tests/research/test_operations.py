"""Operations: Prometheus metrics at /metrics for the operator's network only, job figures shared by
every worker through Redis, and log lines that name the analysis they are about. A real worker runs
the job."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from emotion.web import metrics
from tests import servers
from tests.conftest import CLIP, need
from tests.research.conftest import api_for, post_file

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(client, **meta) -> str:
    res = client.get("/metrics", **meta)
    assert res.status_code == 200, res.status_code
    return res.content.decode()


def sample(text: str, name: str) -> float:
    """The value of one sample line ("name{labels} value"), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " ") or line == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_answer_the_operators_network_only(client):
    text = scrape(client, REMOTE_ADDR="127.0.0.1")
    assert 'fer_analyses{status="queued"}' in text
    assert "fer_job_queue_length" in text
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    with override_settings(FER_METRICS_NETWORKS="10.20.0.0/16"):
        assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_job_figures_are_shared_through_redis(client):
    queue = f"metrics-test-{servers.RUN_ID}"
    r = redis.Redis.from_url(settings.REDIS_URL)
    try:
        with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
            metrics.job_finished("done: 40 results", 3.2)
            metrics.job_finished("done: 40 results", 45.0)
            metrics.job_finished("failed: unreadable media", 0.4)
            r.rpush(queue, "a", "b", "c")
            text = scrape(client)
        assert sample(text, 'fer_jobs_total{outcome="done"}') == 2
        assert sample(text, 'fer_jobs_total{outcome="failed"}') == 1
        assert sample(text, 'fer_job_seconds_bucket{le="5"}') == 1
        assert sample(text, 'fer_job_seconds_bucket{le="60"}') == 2
        assert sample(text, "fer_job_seconds_count") == 2
        assert sample(text, "fer_job_seconds_sum") == pytest.approx(48.2)
        assert sample(text, "fer_job_queue_length") == 3
    finally:
        r.delete(queue, f"{queue}:metrics:jobs")


def test_server_errors_are_counted():
    before = metrics.ERRORS.labels("http", "500")._value.get()
    middleware = metrics.ServerErrorMetricsMiddleware(lambda request: type("R", (), {"status_code": 500})())
    middleware(None)
    middleware.get_response = lambda request: type("R", (), {"status_code": 404})()
    middleware(None)
    assert metrics.ERRORS.labels("http", "500")._value.get() == before + 1


def test_a_real_job_is_counted_and_its_log_lines_name_the_analysis(researcher, celery_worker, client):
    r = redis.Redis.from_url(settings.REDIS_URL)
    key = f"{servers.TEST_QUEUE}:metrics:jobs"
    before = int(r.hget(key, "outcome:done") or 0)
    res = post_file(api_for(researcher), need(CLIP))
    assert res.status_code == 201, res.content
    pk = res.json()["id"]
    deadline = time.monotonic() + 120
    from emotion.research.models import Analysis

    while Analysis.objects.get(pk=pk).status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Analysis.objects.get(pk=pk).status == "done"
    deadline = time.monotonic() + 10           # the worker writes its figures just after the row
    while int(r.hget(key, "outcome:done") or 0) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(r.hget(key, "outcome:done") or 0) == before + 1
    with override_settings(CELERY_TASK_DEFAULT_QUEUE=servers.TEST_QUEUE):
        assert sample(scrape(client), 'fer_jobs_total{outcome="done"}') >= before + 1
    log = (servers.ARTIFACTS / "celery-worker.log").read_text()
    line = next(ln for ln in log.splitlines() if f"analysis {pk} run " in ln)
    assert f"analysis={pk}]" in line and ": done" in line
