"""The retention purge: the command (dry run and real), the daily task and its beat schedule, and what
an analysis' page says once its original has gone."""

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from emotion.live.models import LiveSession
from emotion.privacy.models import PurgedMedia
from emotion.research.models import Analysis, FrameResult
from tests.privacy_helpers import make_analysis, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def periods(settings):
    settings.FER_RETAIN_ORIGINALS_DAYS = 90
    settings.FER_RETAIN_ANNOTATED_DAYS = 30
    settings.FER_RETAIN_RESULTS_DAYS = 365
    settings.FER_RETAIN_LIVE_DAYS = 30


@pytest.fixture
def world(django_user_model):
    u = django_user_model.objects.create_user("lab", password="pw-for-tests-1")
    return {
        "new": make_analysis(u, days_old=1, title="new"),                       # keeps everything
        "month": make_analysis(u, days_old=40, title="month"),                  # loses its annotated media
        "quarter": make_analysis(u, days_old=100, title="quarter"),             # loses both files
        "year": make_analysis(u, days_old=400, title="year"),                   # goes whole
        "running": make_analysis(u, days_old=400, title="running", status=Analysis.Status.RUNNING),
        "live_new": make_session(u, days_old=2),
        "live_old": make_session(None, days_old=31),
        "user": u,
    }


def run(*args) -> str:
    import io

    out = io.StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return (list(Analysis.objects.order_by("pk").values_list("pk", "file", "annotated")), FrameResult.objects.count(),
            LiveSession.objects.count(), PurgedMedia.objects.count())


def test_a_dry_run_counts_and_changes_nothing(periods, world, django_capture_on_commit_callbacks):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        out = run("--dry-run")
    assert snapshot() == before
    for a in ("new", "month", "quarter", "year", "running"):
        assert default_storage.exists(world[a].file.name) and default_storage.exists(world[a].annotated.name)
    # "year" counts under results only; "running" is never touched
    assert "results: would delete 1 analyses with 3 result rows, 1.3 KB (older than 365 days)" in out
    assert "originals: would delete 1 original files, 1.0 KB (older than 90 days)" in out
    assert "annotated: would delete 2 annotated files, 600 bytes (older than 30 days)" in out
    assert "live: would delete 1 live sessions (older than 30 days)" in out
    assert "Dry run: nothing was deleted." in out


def test_the_purge_deletes_exactly_what_expired(periods, world, django_capture_on_commit_callbacks, client):
    new, month, quarter, year, running = (world[k] for k in ("new", "month", "quarter", "year", "running"))
    with django_capture_on_commit_callbacks(execute=True):
        out = run()
    assert "results: deleted 1 analyses" in out and "originals: deleted 1 original files" in out
    assert not Analysis.objects.filter(pk=year.pk).exists()
    assert not FrameResult.objects.filter(analysis_id=year.pk).exists()
    for gone in (year.file.name, year.annotated.name, quarter.file.name, quarter.annotated.name,
                 month.annotated.name):
        assert not default_storage.exists(gone), gone
    for kept in (new.file.name, new.annotated.name, month.file.name, running.file.name, running.annotated.name):
        assert default_storage.exists(kept), kept
    quarter.refresh_from_db(), month.refresh_from_db()
    assert not quarter.file and not quarter.annotated and month.file and not month.annotated
    assert FrameResult.objects.filter(analysis=quarter).count() == 3                    # results are kept
    assert quarter.purged_media.original_days == 90 and quarter.purged_media.annotated_days == 30
    assert not PurgedMedia.objects.filter(analysis=month, original_purged_at__isnull=False).exists()
    assert list(LiveSession.objects.values_list("pk", flat=True)) == [world["live_new"].pk]
    # the page says so instead of linking a file that is gone; the old link is a 404
    client.force_login(world["user"])
    page = client.get(f"/analyses/{quarter.pk}/").content.decode()
    assert "Original file deleted after 90 days" in page and f"/analyses/{quarter.pk}/original" not in page
    assert client.get(f"/analyses/{quarter.pk}/original").status_code == 404
    # and it cannot be re-run: nothing is queued, the results stay, the reason is given
    res = client.post(f"/analyses/{quarter.pk}/rerun", follow=True)
    assert "deleted after its retention period" in res.content.decode()
    quarter.refresh_from_db()
    assert quarter.status == "done" and FrameResult.objects.filter(analysis=quarter).count() == 3
    # a second run finds nothing more
    with django_capture_on_commit_callbacks(execute=True):
        again = run()
    assert "deleted 0 analyses" in again and "deleted 0 original files" in again and "deleted 0 live" in again


def test_the_frames_kept_for_the_page_go_with_the_first_of_original_and_annotated(periods, django_user_model,
                                                                                   django_capture_on_commit_callbacks,
                                                                                   client):
    """They are the original's pictures with boxes drawn: kept no longer than either."""
    u = django_user_model.objects.create_user("lab", password="pw-for-tests-1")
    month = make_analysis(u, days_old=40, frames=True)        # past the annotated media's 30 days
    new = make_analysis(u, days_old=1, frames=True)
    with django_capture_on_commit_callbacks(execute=True):
        run()
    assert not default_storage.exists(month.frames.name) and default_storage.exists(new.frames.name)
    month.refresh_from_db()
    assert not month.frames and month.frames_step == 0 and month.file
    client.force_login(u)
    res = client.get(f"/analyses/{month.pk}/frames/0.jpg")
    assert res.status_code == 404 and "no frames are kept" in res.content.decode()


def test_zero_keeps_for_ever(settings, world, django_capture_on_commit_callbacks):
    for name in ("ORIGINALS", "ANNOTATED", "RESULTS", "LIVE"):
        setattr(settings, f"FER_RETAIN_{name}_DAYS", 0)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        out = run()
    assert snapshot() == before and out.count("kept for ever") == 5      # recordings share RESULTS


def test_the_daily_task_is_scheduled_and_purges(settings, periods, world, django_capture_on_commit_callbacks):
    from celery.schedules import crontab

    from emotion.privacy.tasks import PURGE_TASK, purge_expired
    from fersite.celery import app

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == PURGE_TASK]
    assert len(entries) == 1 and isinstance(entries[0]["schedule"], crontab)
    assert entries[0]["schedule"].remaining_estimate(entries[0]["schedule"].now()).total_seconds() <= 24 * 3600
    app.loader.import_default_modules()
    assert PURGE_TASK in app.tasks                                  # a worker finds it by that name
    with django_capture_on_commit_callbacks(execute=True):
        result = purge_expired()
    assert result["dry_run"] is False and result["live"]["count"] == 1 and result["results"]["count"] == 1
    assert not LiveSession.objects.filter(pk=world["live_old"].pk).exists()
