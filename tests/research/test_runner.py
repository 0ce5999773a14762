"""The analysis job run in this process (the Celery task is a thin wrapper around it)."""

import pytest

from emotion.research.analyses import services
from emotion.research.analyses.lifecycle import MAX_ATTEMPTS
from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis, FrameResult
from tests.conftest import CLIP, MEDIA, need
from tests.research.conftest import upload

pytestmark = pytest.mark.django_db


def make(owner, path, **kw) -> Analysis:
    return services.create_analysis(owner, upload(path), **kw)


def test_an_image_gets_one_result_per_face_and_an_annotated_copy(researcher):
    a = make(researcher, need(MEDIA / "two_people.jpg"), title="two")
    assert run_analysis(a.pk, a.run_id).startswith("done")
    a.refresh_from_db()
    assert a.status == "done" and a.progress == 1.0 and a.error == ""
    assert a.result_count == 2 and a.face_count == 2
    assert a.annotated.name.endswith(".jpg") and a.annotated.storage.exists(a.annotated.name)
    rows = list(FrameResult.objects.filter(analysis=a))
    assert {r.face_id for r in rows} == {1, 2}
    assert all(abs(sum(r.probs) - 1) < 1e-3 for r in rows)
    assert a.summary["faces"] == 2 and abs(sum(a.summary["share_of_time"].values()) - 1) < 1e-3


def test_a_video_gets_a_timeline_per_tracked_face(researcher):
    a = make(researcher, need(CLIP))
    run_analysis(a.pk, a.run_id)
    a.refresh_from_db()
    assert a.status == "done" and a.summary["frames_analysed"] == 275
    frames = sorted(FrameResult.objects.filter(analysis=a).values_list("frame", flat=True))
    assert frames[0] < 10 and frames[-1] > 260                # faces from start to end
    assert a.summary["frames_with_faces"] > 150
    assert a.annotated.name.endswith(".mp4")


def test_frame_step_analyses_every_nth_frame(researcher):
    a = make(researcher, need(CLIP), frame_step=5)
    run_analysis(a.pk, a.run_id)
    a.refresh_from_db()
    assert a.summary["frames_analysed"] == 55
    assert set(FrameResult.objects.filter(analysis=a).values_list("frame", flat=True)) <= set(range(0, 275, 5))


def test_a_video_without_faces_is_done_with_a_notice(researcher, bad_media):
    a = make(researcher, bad_media["no_faces"])
    run_analysis(a.pk, a.run_id)
    a.refresh_from_db()
    assert a.status == "done" and a.result_count == 0
    assert a.notice == "No faces were found in this video."


def test_a_truncated_video_fails_with_a_reason_and_keeps_what_was_read(researcher, bad_media):
    a = make(researcher, bad_media["truncated_avi"])
    run_analysis(a.pk, a.run_id)
    a.refresh_from_db()
    assert a.status == "failed"
    assert "truncated or damaged" in a.error and "kept" in a.error
    assert 0 < a.summary["frames_analysed"] < 90
    assert a.result_count == FrameResult.objects.filter(analysis=a).count() > 0


def test_running_the_same_job_again_replaces_and_never_duplicates(researcher):
    a = make(researcher, need(MEDIA / "two_people.jpg"))
    run_analysis(a.pk, a.run_id)
    assert run_analysis(a.pk, a.run_id).startswith("skipped")      # a repeated delivery after success
    # A delivery that died half way leaves the row "running"; the next one does the work again.
    Analysis.objects.filter(pk=a.pk).update(status="running")
    assert run_analysis(a.pk, a.run_id).startswith("done")
    a.refresh_from_db()
    assert FrameResult.objects.filter(analysis=a).count() == a.result_count == 2
    assert a.attempts == 2


def test_an_older_run_never_overwrites_a_rerun(researcher):
    a = make(researcher, need(MEDIA / "two_people.jpg"))
    old = a.run_id
    a = services.rerun(Analysis.objects.get(pk=a.pk))
    assert run_analysis(a.pk, old) == "skipped: superseded by a newer run"
    assert run_analysis(a.pk, a.run_id).startswith("done")


def test_a_deleted_analysis_is_skipped_and_its_files_go(researcher, django_capture_on_commit_callbacks):
    a = make(researcher, need(MEDIA / "two_people.jpg"))
    run_analysis(a.pk, a.run_id)
    a.refresh_from_db()
    storage, names = a.file.storage, [a.file.name, a.annotated.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_analysis(a)
    assert not any(storage.exists(n) for n in names)
    assert run_analysis(a.pk, a.run_id) == "skipped: the analysis was deleted"


def test_a_file_that_keeps_killing_workers_is_given_up(researcher):
    a = make(researcher, need(MEDIA / "two_people.jpg"))
    Analysis.objects.filter(pk=a.pk).update(status="running", attempts=MAX_ATTEMPTS)
    assert run_analysis(a.pk, a.run_id) == "failed: too many attempts"
    a.refresh_from_db()
    assert a.status == "failed" and "stopped 3 times" in a.error


def test_stuck_analyses_are_queued_again_and_only_they(researcher, monkeypatch):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from emotion.research import tasks

    sent = []
    monkeypatch.setattr(tasks.analyse, "delay", lambda *args: sent.append(args))   # the broker is not the point here
    old = timezone.now() - timedelta(hours=2)
    lost = make(researcher, need(MEDIA / "obama.jpg"))
    Analysis.objects.filter(pk=lost.pk).update(queued_at=old)
    dead = make(researcher, need(MEDIA / "obama.jpg"))
    Analysis.objects.filter(pk=dead.pk).update(status="running", started_at=old, queued_at=old)
    make(researcher, need(MEDIA / "obama.jpg"))                                   # just queued: left alone
    done = make(researcher, need(MEDIA / "obama.jpg"))
    run_analysis(done.pk, done.run_id)
    Analysis.objects.filter(pk=done.pk).update(queued_at=old)
    call_command("requeue_stuck")
    assert sorted(sent) == sorted([(lost.pk, str(lost.run_id)), (dead.pk, str(dead.run_id))])
