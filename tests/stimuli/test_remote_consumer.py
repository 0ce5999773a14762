"""The remote-session socket over real WebSockets against a real daphne, with the real engine: frames
tagged with stimulus times become RecordingFrames at those times, gaps are kept, malformed messages are
answered without ending the session, and withdrawal leaves nothing."""

import asyncio
import json
import math
import struct
import time

import pytest
from django.conf import settings

from emotion.live.limits import LiveLimits
from emotion.ml import EMOTIONS
from emotion.research.models import Condition, Participant
from emotion.stimuli.models import Recording, RecordingFrame, StimulusLink

from .remote_support import face_jpeg, link_for, make_stimulus, study_with_members

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 60                      # the first frame loads the engine in daphne


class Session:
    def __init__(self, ws):
        self.ws = ws

    async def reply(self) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))

    async def cmd(self, **cmd) -> dict:
        await self.ws.send(json.dumps(cmd))
        return await self.reply()

    async def frame(self, t: float, image: bytes) -> dict:
        await self.ws.send(struct.pack(">d", t) + image)
        return await self.reply()


def run(daphne_url, key, script):
    """Connect to the session socket of ``key``, read the hello, and run ``script(session, hello)``."""
    from websockets.asyncio.client import connect

    async def go():
        url = daphne_url.replace("http://", "ws://") + f"/ws/stimuli/take/{key}/"
        async with connect(url, origin=daphne_url, max_size=2 ** 20) as ws:
            session = Session(ws)
            return await script(session, await session.reply())

    return asyncio.run(go())


@pytest.fixture
def stimulus(django_user_model):
    study, _ = study_with_members(django_user_model)
    return make_stimulus(study)


@pytest.fixture(scope="module")
def face():
    return face_jpeg()


def test_frames_are_stored_at_their_stimulus_times_with_the_gaps(daphne_url, stimulus, face):
    condition = Condition.objects.create(study=stimulus.study, name="loud")
    link, key = link_for(stimulus, "P01", condition="loud")

    async def script(s, hello):
        assert hello["type"] == "hello" and hello["needs_code"] is False
        assert hello["stimulus"] == {"kind": "video", "duration": 3.0} and hello["emotions"] == list(EMOTIONS)
        check = await s.frame(0, face)
        assert check["type"] == "check" and check["face"] is True and check["message"]
        assert (await s.cmd(type="play"))["type"] == "playing"
        out = [await s.frame(t, face) for t in (0.0, 0.1, 0.2)]
        assert (await s.cmd(type="pause", t=0.25, reason="hidden"))["type"] == "paused"
        out.append(await s.frame(0.25, face))                   # sent while hidden: never stored
        assert (await s.cmd(type="resume", t=0.25))["type"] == "resumed"
        out.append(await s.frame(0.3, face))
        assert (await s.cmd(**{"type": "seek", "from": 0.3, "to": 1.5}))["type"] == "seeked"
        out += [await s.frame(t, face) for t in (1.5, 1.6)]
        await s.cmd(**{"type": "seek", "from": 1.6, "to": 1.0})
        out += [await s.frame(t, face) for t in (1.1, 1.7)]     # 1.1 was read already: not twice
        return out, await s.cmd(type="end", t=3.0)

    replies, done = run(daphne_url, key, script)
    assert [r.get("stored") for r in replies] == [True, True, True, False, True, True, True, False, True]
    assert replies[3]["reason"] == "paused" and all(r["type"] == "frame" for r in replies)
    expected_gaps = [{"start": 0.25, "end": 0.25, "reason": "hidden"}, {"start": 0.3, "end": 1.5, "reason": "seek"},
                     {"start": 1.6, "end": 1.6, "reason": "seek"}]
    assert done["type"] == "done" and done["frames"] == 7 and done["gaps"] == expected_gaps
    rec = Recording.objects.get(pk=done["recording"])
    assert (rec.source, rec.state, rec.participant.code) == ("remote", "done", "P01")
    assert rec.condition == condition and rec.link == link
    assert rec.ended_at is not None and rec.model_version and rec.gaps == expected_gaps
    assert rec.frames_received == 9 and rec.frames_analysed == 8            # the paused frame was not analysed
    frames = list(rec.frames.order_by("time"))
    assert [f.time for f in frames] == [0.0, 0.1, 0.2, 0.3, 1.5, 1.6, 1.7]
    for f in frames:
        assert math.isclose(sum(f.probabilities()), 1, abs_tol=1e-3)
        assert f.top in EMOTIONS and f.dominant in EMOTIONS and f.face_size > 40 and f.reliable is not None
    assert rec.frames_reliable == sum(1 for f in frames if f.reliable)
    assert StimulusLink.objects.get(pk=link.pk).uses == 1


def test_malformed_messages_get_a_clear_error_and_the_session_goes_on(daphne_url, stimulus, face):
    _, key = link_for(stimulus, "P01")

    async def script(s, hello):
        errors = [await s.cmd(type="end", t=1)]                             # out of turn: nothing is playing
        await s.ws.send("not json")
        errors.append(await s.reply())
        errors.append(await s.cmd(type="dance"))
        errors.append(await s.cmd(type="pause", t="soon"))
        await s.ws.send(b"abc")                                             # no time before the image
        errors.append(await s.reply())
        errors.append(await s.frame(float("nan"), face))
        assert (await s.cmd(type="play"))["type"] == "playing"
        errors.append(await s.frame(0.5, b"this is not a picture"))
        errors.append(await s.frame(99.0, face))                            # past the stimulus' end
        errors.append(await s.frame(0.6, b"\xff" * (300 * 1024)))
        good = await s.frame(0.7, face)
        return errors, good, await s.cmd(type="end", t=3.0)

    errors, good, done = run(daphne_url, key, script)
    assert [e["type"] for e in errors] == ["error"] * 9
    assert [e["code"] for e in errors] == ["bad_state", "bad_command", "unknown_command", "bad_command", "bad_frame",
                                           "bad_frame", "bad_image", "bad_frame", "too_large"]
    assert all(e["message"] for e in errors) and errors[4]["seq"] == 0 and errors[2]["seq"] is None
    assert good["stored"] is True and done["frames"] == 1
    assert list(RecordingFrame.objects.values_list("time", flat=True)) == [0.7]


def test_withdrawal_deletes_the_recording_and_gives_the_use_back_only_if_nothing_was_stored(daphne_url, stimulus,
                                                                                            face):
    link, key = link_for(stimulus, "P01", max_uses=2)

    async def stored_then_withdrawn(s, hello):
        await s.cmd(type="play")
        stored = [(await s.frame(t, face))["stored"] for t in (0.0, 0.1, 0.2)]
        return stored, await s.cmd(type="withdraw")

    stored, withdrawn = run(daphne_url, key, stored_then_withdrawn)
    assert stored == [True] * 3 and withdrawn == {"type": "withdrawn", "use_returned": False}
    assert not Recording.objects.exists() and not RecordingFrame.objects.exists()
    assert StimulusLink.objects.get(pk=link.pk).uses == 1                   # the stimulus was seen: the use counts

    async def withdrawn_at_once(s, hello):
        await s.cmd(type="play")
        return await s.cmd(type="withdraw")

    assert run(daphne_url, key, withdrawn_at_once) == {"type": "withdrawn", "use_returned": True}
    assert not Recording.objects.exists() and StimulusLink.objects.get(pk=link.pk).uses == 1

    async def withdrawn_when_done(s, hello):
        await s.cmd(type="play")
        await s.frame(0.0, face)
        assert (await s.cmd(type="end", t=3.0))["type"] == "done"
        return await s.cmd(type="withdraw")

    assert run(daphne_url, key, withdrawn_when_done)["type"] == "withdrawn"
    assert not Recording.objects.exists() and not RecordingFrame.objects.exists()


def test_an_open_link_takes_a_valid_code_before_the_stimulus(daphne_url, stimulus, face):
    link, key = link_for(stimulus)

    async def script(s, hello):
        assert hello["needs_code"] is True
        answers = [await s.cmd(type="play"), await s.cmd(type="code", code="x" * 65), await s.cmd(type="code", code=7)]
        answers += [await s.cmd(type="code", code=" Q7 "), await s.cmd(type="play")]
        answers.append(await s.frame(0.0, face))
        return answers, await s.cmd(type="end", t=3.0)

    answers, done = run(daphne_url, key, script)
    assert [a.get("code") for a in answers[:3]] == ["no_code", "bad_code", "bad_command"]
    assert "64" in answers[1]["message"]
    assert answers[3] == {"type": "code", "ok": True} and answers[4]["type"] == "playing"
    rec = Recording.objects.get(pk=done["recording"])
    assert rec.participant == Participant.objects.get(study=stimulus.study, code="Q7") and rec.frames.count() == 1
    assert StimulusLink.objects.get(pk=link.pk).uses == 1


def test_unknown_and_used_up_keys(daphne_url, stimulus, face):
    from websockets.exceptions import ConnectionClosed

    async def unknown(s, hello):
        assert hello["code"] == "not_found"
        with pytest.raises(ConnectionClosed) as closed:
            await s.reply()
        return closed.value.rcvd.code

    assert run(daphne_url, "no-such-key", unknown) == 4404
    link, key = link_for(stimulus, "P01")
    StimulusLink.objects.filter(pk=link.pk).update(uses=1)

    async def used(s, hello):
        return await s.frame(0, face), await s.cmd(type="play")

    check, play = run(daphne_url, key, used)
    assert check["code"] == "used_up" and play["code"] == "used_up" and not Recording.objects.exists()


def test_a_lost_connection_is_a_gap_that_a_rejoin_closes(daphne_url, stimulus, face):
    _, key = link_for(stimulus, "P01")

    async def first(s, hello):
        playing = await s.cmd(type="play")
        for t in (0.0, 0.1):
            await s.frame(t, face)
        return playing                               # the socket closes here, mid-stimulus

    playing = run(daphne_url, key, first)
    rec = Recording.objects.get(pk=playing["recording"])
    deadline = time.monotonic() + WAIT                   # the server notices the close on its own time
    while not rec.gaps and time.monotonic() < deadline:
        time.sleep(0.1)
        rec.refresh_from_db()
    assert rec.gaps == [{"start": 0.1, "end": 3.0, "reason": "connection"}] and rec.state == "running"

    async def second(s, hello):
        forged = await s.cmd(type="rejoin", token=playing["token"] + "x", lost_at=0.1, t=0.5)
        back = await s.cmd(type="rejoin", token=playing["token"], lost_at=0.15, t=0.5)
        frames = [await s.frame(t, face) for t in (0.05, 0.6)]
        return forged, back, frames, await s.cmd(type="end", t=3.0)

    forged, back, frames, done = run(daphne_url, key, second)
    assert forged["code"] == "bad_token"
    assert back["type"] == "playing" and back["rejoined"] is True and back["recording"] == rec.pk
    assert [f["stored"] for f in frames] == [False, True]
    assert done["gaps"] == [{"start": 0.1, "end": 0.5, "reason": "connection"}]
    assert list(RecordingFrame.objects.filter(recording=rec).values_list("time", flat=True)) == [0.0, 0.1, 0.6]


def test_the_socket_keeps_the_live_limits_and_says_them_in_the_live_words(daphne_url, stimulus, face):
    """A burst of frames past the live rate and queue gets the live socket's refusals; each frame is
    answered once and the session goes on."""
    _, key = link_for(stimulus, "P01")
    burst = settings.FER_LIVE_BURST + 20

    async def script(s, hello):
        started = time.monotonic()
        for _ in range(burst):
            await s.ws.send(struct.pack(">d", 0.0) + face)
        replies = [await s.reply() for _ in range(burst)]
        return hello, replies, time.monotonic() - started, await s.cmd(type="play")

    hello, replies, sending, playing = run(daphne_url, key, script)
    assert hello["limits"] == LiveLimits.from_settings().for_clients()
    assert sorted(r["seq"] for r in replies) == list(range(burst))
    refused = {code: [r for r in replies if r.get("code") == code] for code in ("rate_limited", "busy")}
    refilled = settings.FER_LIVE_MAX_FPS * sending               # tokens back while the burst went in
    assert len(refused["rate_limited"]) >= burst - settings.FER_LIVE_BURST - refilled - 5, replies
    assert all(f"more than {settings.FER_LIVE_MAX_FPS:g} frames/s" in r["message"] for r in refused["rate_limited"])
    assert refused["busy"] and all(r["message"].startswith(f"frame {r['seq']}: {settings.FER_LIVE_QUEUE} frames are "
                                                           "already waiting") for r in refused["busy"])
    assert any(r["type"] == "check" for r in replies) and playing["type"] == "playing"
