"""A live session and its row on their own (emotion/live/sessions.py): what is stored, when it is
saved, what the browser may add, and the private link. A clock of the test's own; the real database."""

import pytest
from django.utils import timezone

from emotion.live.access import by_key
from emotion.live.limits import LiveLimits
from emotion.live.models import LiveSession
from emotion.live.sessions import SUMMARY_FIELDS, LiveSessionRun, plausible
from emotion.ml import EMOTIONS

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def face(dominant="happy"):
    return {"id": 1, "box": [0, 0, 50, 50], "dominant": dominant, "reliable": True,
            "probs": {e: (0.9 if e == dominant else 0.1 / 6) for e in EMOTIONS}}


def test_an_unstored_session_counts_its_frames_and_never_writes():
    clock = Clock()
    run = LiveSessionRun(clock)
    run.received()
    clock.now += 0.1
    assert run.analysed([face()], 12.0) is False               # nothing to save: no row
    ended = run.finish({"rtt_ms": 40, "dropped": 1})
    assert ended["session"] is None and ended["stored"] is False
    assert tuple(ended["summary"]) == SUMMARY_FIELDS
    assert ended["summary"]["frames_received"] == 1 and ended["summary"]["frames_analysed"] == 1
    assert LiveSession.objects.count() == 0


def test_a_stored_session_gets_a_row_and_a_link_that_opens_it_once_shown(settings):
    run = LiveSessionRun(Clock())
    link = run.store(None, "model@1")
    row = LiveSession.objects.get()
    assert run.id == row.pk and row.model_version == "model@1" and row.started_at is not None
    session_id, key = link.rstrip("/").split("/")[-2:]
    assert link.startswith("/live/s/") and int(session_id) == row.pk
    assert key not in row.access_key_hash                       # only the hash is kept
    assert by_key(row.pk, key) == row


def test_a_stored_session_is_saved_every_flush_period_not_every_frame(settings):
    settings.FER_LIVE_FLUSH_SECONDS = 5
    clock = Clock()
    run = LiveSessionRun(clock)
    run.store(None, "model@1")
    due = []
    for _ in range(12):                                          # 12 frames, one a second
        clock.now += 1
        run.received()
        due.append(run.analysed([face()], 10.0))
        if due[-1]:
            run.save()
    assert due == [False] * 4 + [True] + [False] * 4 + [True] + [False] * 2
    row = LiveSession.objects.get()
    assert row.frames_analysed == 10 and row.ended_at is None   # as of the last save
    assert row.emotion_share["happy"] == 1.0


def test_finish_stores_the_end_and_what_the_browser_measured_when_plausible():
    clock = Clock()
    run = LiveSessionRun(clock, now=lambda: timezone.now())
    run.store(None, "model@1")
    clock.now += 1
    run.analysed([face("sad")], 10.0)
    ended = run.finish({"rtt_ms": 35.5, "dropped": True})      # a bool is no count
    row = LiveSession.objects.get()
    assert ended == {"session": row.pk, "stored": True, "summary": {k: getattr(row, k) for k in SUMMARY_FIELDS}}
    assert row.ended_at is not None and row.client_rtt_ms == 35.5 and row.client_dropped is None
    assert row.frames_analysed == 1 and row.emotion_share == {}   # a single frame stands for no time


@pytest.mark.parametrize("value, expected", [(3, 3.0), (0.5, 0.5), (-1, None), (10**7, None), ("5", None),
                                             (None, None), (False, None)])
def test_only_plausible_numbers_from_the_browser_are_kept(value, expected):
    assert plausible(value, 0, 60_000) == expected


def test_the_limits_sent_to_clients_are_the_settings(settings):
    settings.FER_LIVE_MAX_FPS = 12
    settings.FER_LIVE_MAX_SOCKETS_PER_IP = 4
    sent = LiveLimits.from_settings().for_clients()
    assert sent["max_fps"] == 12 and sent["per_address"]["sockets"] == 4
    assert sent["max_frame_bytes"] == settings.FER_LIVE_MAX_FRAME_BYTES and sent["queue"] == settings.FER_LIVE_QUEUE
