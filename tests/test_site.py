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

    code = ("import sys, emotion.ml, emotion.training.train, emotion.training.evaluate, emotion.ml.annotate, emotion.ml.export; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_site_has_an_icon(client):
    """Every page load asked for /favicon.ico and logged a 404 in the browser's console."""
    res = client.get("/favicon.ico")
    assert res.status_code == 301 and res["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get("/").content.decode()


def test_numbers_never_show_a_negative_zero():
    """A Cohen's kappa of -0.001 was written "-0.00"."""
    from emotion.research.templatetags.research_stats import plain

    assert plain(-0.001) == "0.00" and plain(-0.004, 2) == "0.00" and plain(-0.006) == "-0.01" and plain(None) == "–"


@pytest.mark.django_db
def test_the_header_links_every_part_and_the_api_docs_lead_back(client, django_user_model):
    user = django_user_model.objects.create_user("nav", password="pw-for-tests-1")
    client.force_login(user)
    home = client.get("/").content.decode()
    header = home[home.index('<header class="top">'):home.index("</header>")]
    for address in ("/live/", "/analyses/", "/analyses/studies/", "/live/sessions/", "/api/docs/", "/account/data/"):
        assert f'href="{address}"' in header, address
    assert "Your data</a> ·" in header          # the phone's header read "Your data Sign out"
    docs = client.get("/api/docs/").content.decode()
    assert '<header class="top">' in docs and 'href="/"' in docs
    # the home page shows an analysed example and says what grey means
    assert 'src="/static/img/example.jpg"' in home and "Grey means" in home
