"""The cases of an analysis's life that Celery's own redelivery does not cover, each on its own, with the
real Redis: who holds a run (liveness.holding) and who queues a dead worker's run again (the watch).

The cases Celery covers are tested end to end elsewhere: a pool process killed mid-job
(test_worker_e2e), a repeated or superseded delivery and a file that keeps killing workers
(test_runner), a whole worker killed (test_failures), a queue the broker lost (test_runner's
requeue_stuck)."""

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from emotion.research.analyses import lifecycle, liveness
from emotion.research.models import Analysis

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(researcher):
    a = Analysis.objects.create(owner=researcher, kind="image", file="uploads/x.jpg", original_name="x.jpg",
                                size_bytes=1, media_format="jpeg", status=Analysis.Status.RUNNING,
                                started_at=timezone.now() - timedelta(hours=1))
    yield a
    liveness._client().delete(liveness._key(a.pk))


def test_a_second_delivery_of_a_run_a_live_process_holds_is_skipped(running):
    run = str(running.run_id)
    with liveness.holding(running.pk, run) as first:
        assert first
        with liveness.holding(running.pk, run) as second:
            assert not second                       # this process is alive: the run is being worked on
    assert not liveness._client().exists(liveness._key(running.pk))     # released by its holder


def test_a_dead_process_key_on_this_machine_and_an_older_runs_key_do_not_block(running):
    run = str(running.run_id)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    r, key = liveness._client(), liveness._key(running.pk)
    r.set(key, f"{run}|{socket.gethostname()}|{gone.pid}|dead", ex=60)
    with liveness.holding(running.pk, run) as mine:
        assert mine
    r.set(key, "an-older-run|elsewhere|1|x", ex=60)
    with liveness.holding(running.pk, run) as mine:
        assert mine


@pytest.mark.django_db(transaction=True)    # the watch closes old connections, as on a worker
def test_a_run_whose_worker_stopped_beating_is_queued_again_once(running):
    sent = []
    assert liveness.requeue_orphans(lambda pk, run: sent.append((pk, run))) == 1
    assert sent == [(running.pk, str(running.run_id))]
    running.refresh_from_db()
    assert running.status == Analysis.Status.QUEUED
    # a second watching worker finds it queued already: nothing more is sent
    assert not lifecycle.requeue_if_running(running.pk, str(running.run_id), lambda *a: sent.append(a))
    assert len(sent) == 1


@pytest.mark.django_db(transaction=True)
def test_a_run_still_beating_is_left_alone(running):
    sent = []
    with liveness.holding(running.pk, str(running.run_id)) as mine:
        assert mine
        assert liveness.requeue_orphans(lambda *a: sent.append(a)) == 0
    assert sent == [] and Analysis.objects.get(pk=running.pk).status == Analysis.Status.RUNNING
