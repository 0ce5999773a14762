import pytest
from django.core.management import call_command


def test_system_checks_pass():
    call_command("check")


@pytest.mark.django_db
def test_home_page_shows_the_model_card(client):
    res = client.get("/")
    assert res.status_code == 200
    assert b"PrivateTest" in res.content


def test_celery_app_reads_the_django_settings():
    from fersite.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit


def test_ml_core_imports_nothing_from_django():
    import subprocess
    import sys

    code = ("import sys, emotion.ml, emotion.ml.train, emotion.ml.evaluate, emotion.ml.annotate, emotion.ml.export; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_site_has_an_icon(client):
    """Every page load asked for /favicon.ico and logged a 404 in the browser's console."""
    res = client.get("/favicon.ico")
    assert res.status_code == 301 and res["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get("/").content.decode()
