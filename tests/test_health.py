"""/healthz says the process is up; /readyz says whether it can serve: database, job queue, model."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        res = client.get("/healthz")
    assert res.status_code == 200 and res.json() == {"status": "ok"}
    assert "no-cache" in res["Cache-Control"] or "max-age=0" in res["Cache-Control"]


def test_readyz_checks_the_database_the_queue_and_the_model(client):
    res = client.get("/readyz")
    body = res.json()
    assert res.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "queue", "model"}
    assert all(c["ok"] for c in body["checks"].values())


def test_readyz_says_what_is_down(client, settings):
    from fersite.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"             # nothing listens there
    try:
        res = client.get("/readyz")
    finally:
        app.conf.broker_url = old
    body = res.json()
    assert res.status_code == 503 and body["status"] == "not ready"
    assert body["checks"]["queue"]["ok"] is False and body["checks"]["queue"]["error"]
    assert body["checks"]["database"]["ok"] and body["checks"]["model"]["ok"]


def test_health_endpoints_take_get_only(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
