"""The /ws/live/ consumer through the real ASGI application: origin check, auth, Redis channel layer,
the real engine in its thread pool."""

import asyncio
import json
import struct
import time
from contextlib import asynccontextmanager

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings

from emotion.live.models import LiveSession
from emotion.ml import EMOTIONS
from emotion.ml.quality import is_reliable
from emotion.ml.media import decode_image
from emotion.runtime import get_engine
from fersite.asgi import application

from .conftest import ALLOWED_ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 30          # the first connection loads the engine


@asynccontextmanager
async def live(headers=(ALLOWED_ORIGIN,)):
    comm = WebsocketCommunicator(application, "/ws/live/", headers=list(headers))
    connected, _ = await comm.connect(timeout=WAIT)
    assert connected
    hello = await comm.receive_json_from(timeout=WAIT)
    assert hello["type"] == "hello" and hello["emotions"] == list(EMOTIONS)
    try:
        yield comm
    finally:
        await comm.disconnect(timeout=WAIT)


async def reply(comm) -> dict:
    return await comm.receive_json_from(timeout=WAIT)


async def command(comm, **cmd) -> dict:
    await comm.send_to(text_data=json.dumps(cmd))
    return await reply(comm)


async def frames(comm, jpegs) -> list:
    """Send frames one at a time, as the page does, and return their replies."""
    out = []
    for jpeg in jpegs:
        await comm.send_to(bytes_data=jpeg)
        out.append(await reply(comm))
    return out


def test_a_photo_of_a_face_gets_seven_probabilities(face_jpeg):
    async def go():
        async with live() as comm:
            return await frames(comm, [face_jpeg])

    (msg,) = async_to_sync(go)()
    assert msg["type"] == "result" and msg["seq"] == 0
    assert msg["server_ms"] > 0
    (face,) = msg["faces"]
    assert list(face["probs"]) == list(EMOTIONS)
    assert sum(face["probs"].values()) == pytest.approx(1, abs=1e-3)
    assert face["dominant"] == max(face["probs"], key=face["probs"].get)
    x, y, w, h = face["box"]
    assert 0 <= x and 0 <= y and w > 40 and x + w <= 320
    # how far the reading can be trusted comes with it
    assert face["source"] == "detected" and face["face_size"] == round((w * h) ** 0.5)
    assert face["sharpness"] > 0 and 0 < face["brightness"] < 255
    assert face["reliable"] is is_reliable(face["source"], face["face_size"], face["sharpness"], face["brightness"], face["noise"],
                                            face["confidence"])


def test_each_face_keeps_its_lstm_state_across_frames(clip_jpegs, monkeypatch):
    # The times the server gives each frame (its arrival), recorded as the real analyse runs: how far
    # a track may have moved depends on the time since it was last seen, and a loaded machine spaces
    # arrivals differently from one run to the next.
    from emotion.live import inference

    arrivals, real = [], inference.analyse
    monkeypatch.setattr(inference, "analyse", lambda stream, data, t: arrivals.append(t) or real(stream, data, t))

    async def go():
        async with live() as comm:
            seen = await frames(comm, clip_jpegs)
            assert (await command(comm, type="reset"))["type"] == "reset"
            after_reset = await frames(comm, clip_jpegs[-1:])
            return seen, after_reset[0]

    seen, after_reset = async_to_sync(go)()
    assert [m["seq"] for m in seen] == list(range(len(clip_jpegs)))
    ids = [[f["id"] for f in m["faces"]] for m in seen]
    assert all(i == [1] for i in ids), ids                      # one face, one track, every frame

    # The server's stream gives what a local stream fed the same frames gives: its state carried over...
    local = get_engine().stream(settings.FER_LIVE_SCAN_SECONDS)
    for jpeg, msg, t in zip(clip_jpegs, seen, arrivals):
        (mine,) = local.process(decode_image(jpeg), t=t)
        assert np.allclose(mine.probs, [msg["faces"][0]["probs"][e] for e in EMOTIONS], atol=2e-4)
    # ...and that is not what a fresh stream says of the last frame alone.
    (fresh,) = get_engine().stream().process(decode_image(clip_jpegs[-1]))
    last = np.array([seen[-1]["faces"][0]["probs"][e] for e in EMOTIONS])
    assert np.abs(last - fresh.probs).max() > 1e-3
    # "reset" forgets it: the same frame now gets the fresh stream's answer.
    assert np.allclose([after_reset["faces"][0]["probs"][e] for e in EMOTIONS], fresh.probs, atol=2e-4)


def jpeg_claiming(width: int, height: int, jpeg: bytes) -> bytes:
    """A small real JPEG whose frame header claims another size."""
    i = 2
    while jpeg[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + struct.unpack(">H", jpeg[i + 2:i + 4])[0]
    return jpeg[:i + 5] + struct.pack(">HH", height, width) + jpeg[i + 9:]


def test_bad_messages_get_errors_and_the_socket_stays_usable(face_jpeg):
    from tests.conftest import MEDIA

    big_photo = (MEDIA / "obama.jpg").read_bytes()
    assert len(big_photo) > settings.FER_LIVE_MAX_FRAME_BYTES

    async def go():
        async with live() as comm:
            got = await frames(comm, [b"definitely not a jpeg", big_photo, jpeg_claiming(20000, 20000, face_jpeg)])
            for text in ["hello", '{"type": "dance"}', "[1, 2]", '{"type": "start", "store": "yes"}',
                         '{"type": "stop"}', "x" * 10000]:
                await comm.send_to(text_data=text)
                got.append(await reply(comm))
            got += await frames(comm, [face_jpeg])
            return got

    got = async_to_sync(go)()
    errors, last = got[:-1], got[-1]
    assert all(m["type"] == "error" and m["message"] for m in errors)
    assert [m["seq"] for m in errors] == [0, 1, 2] + [None] * 6
    assert [m["code"] for m in errors] == ["bad_image", "too_large", "bad_image", "bad_command", "unknown_command",
                                           "bad_command", "bad_command", "not_started", "bad_command"]
    assert "20000x20000" in errors[2]["message"]
    assert "dance" in errors[4]["message"]
    # Text commands do not count as frames: the next frame is the 4th binary message.
    assert last["type"] == "result" and last["seq"] == 3 and len(last["faces"]) == 1


def test_a_burst_above_the_rate_limit_is_refused_then_the_socket_recovers(face_jpeg):
    burst = 60

    sending = []

    async def go():
        async with live() as comm:
            started = time.monotonic()
            for _ in range(burst):
                await comm.send_to(bytes_data=face_jpeg)
            got = [await reply(comm) for _ in range(burst)]
            sending.append(time.monotonic() - started)
            await asyncio.sleep(1.2)            # the bucket refills
            got += await frames(comm, [face_jpeg])
            return got

    got = async_to_sync(go)()
    assert sorted(m["seq"] for m in got[:burst]) == list(range(burst))        # every frame answered once
    codes = [m.get("code", m["type"]) for m in got[:burst]]
    # the bucket refills while a busy machine is still taking the burst in: those tokens are allowed
    refilled = settings.FER_LIVE_MAX_FPS * sending[0]
    assert codes.count("rate_limited") >= burst - settings.FER_LIVE_BURST - refilled - 5, codes
    assert codes.count("busy") > 0 and codes.count("result") >= 1, codes
    assert got[-1]["type"] == "result" and got[-1]["seq"] == burst


@pytest.mark.parametrize("headers", [[(b"origin", b"http://evil.example.com")], [(b"origin", b"http://127.0.0.1.evil.com")],
                                     []], ids=["other-site", "lookalike", "no-origin"])
def test_a_page_from_another_origin_cannot_connect(headers):
    async def go():
        comm = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, _ = await comm.connect(timeout=WAIT)
        await comm.disconnect()
        return connected

    assert async_to_sync(go)() is False


def test_nothing_is_stored_without_consent(clip_jpegs):
    async def go():
        async with live() as comm:
            started = await command(comm, type="start", store=False)
            await frames(comm, clip_jpegs[:4])
            stopped = await command(comm, type="stop")
            return started, stopped

    started, stopped = async_to_sync(go)()
    assert started == {"type": "started", "session": None, "store": False}
    assert stopped["stored"] is False and stopped["session"] is None
    assert stopped["summary"]["frames_analysed"] == 4          # the visitor still gets a summary
    assert LiveSession.objects.count() == 0


def test_a_consenting_session_is_stored_in_batches(clip_jpegs, settings):
    settings.FER_LIVE_TIMELINE_STEP = 0.0                      # a point for every frame: countable

    async def go():
        async with live() as comm:
            started = await command(comm, type="start", store=True)
            await frames(comm, clip_jpegs[:3])
            # The row exists from the start, but frames are not written one by one.
            row = await LiveSession.objects.aget(pk=started["session"])
            mid_frames = row.frames_analysed
            await frames(comm, clip_jpegs[3:])
            await comm.send_to(text_data=json.dumps({"type": "stop", "client": {"rtt_ms": 42.5, "dropped": 3}}))
            return started, mid_frames, await reply(comm)

    started, mid_frames, stopped = async_to_sync(go)()
    assert started["store"] is True and stopped["stored"] is True and stopped["session"] == started["session"]
    assert mid_frames == 0
    s = LiveSession.objects.get()
    assert s.user is None and s.ended_at > s.started_at
    assert s.frames_received == s.frames_analysed == s.frames_with_faces == len(clip_jpegs)
    assert s.avg_latency_ms > 0 and s.avg_fps > 0
    assert s.client_rtt_ms == 42.5 and s.client_dropped == 3
    assert s.model_version == get_engine().version
    assert len(s.timeline) == len(clip_jpegs) and all(len(p["p"]) == 7 for p in s.timeline)
    assert [p["t"] for p in s.timeline] == sorted(p["t"] for p in s.timeline)
    assert sum(s.emotion_share.values()) == pytest.approx(1, abs=1e-3)


def test_a_long_session_is_flushed_while_it_runs(clip_jpegs, settings):
    settings.FER_LIVE_FLUSH_SECONDS = 0.25

    async def go():
        async with live() as comm:
            started = await command(comm, type="start", store=True)
            await frames(comm, clip_jpegs[:2])
            await asyncio.sleep(0.35)
            # The 3rd frame finds the last write 0.35 s old and writes; the 4th, right after, does not.
            await frames(comm, clip_jpegs[2:4])
            row = await LiveSession.objects.aget(pk=started["session"])
            return row
        # disconnecting without "stop" still ends and saves the session

    row = async_to_sync(go)()
    assert row.frames_analysed == 3 and row.ended_at is None
    row.refresh_from_db()
    assert row.ended_at is not None and row.frames_analysed == 4


def test_a_signed_in_visitors_session_is_theirs(face_jpeg, django_user_model, client):
    user = django_user_model.objects.create_user("viewer", password="pw-for-tests-1")
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()

    async def go():
        async with live(headers=(ALLOWED_ORIGIN, (b"cookie", cookie))) as comm:
            started = await command(comm, type="start", store=True)
            await frames(comm, [face_jpeg])
            await command(comm, type="stop")
            return started

    started = async_to_sync(go)()
    assert LiveSession.objects.get(pk=started["session"]).user == user


def test_connections_do_not_wait_for_each_other(face_jpeg, clip_jpegs):
    """Two sockets at once: both get answers in order, each with its own tracks."""
    async def one(jpegs):
        async with live() as comm:
            t = time.perf_counter()
            got = await frames(comm, jpegs)
            return got, time.perf_counter() - t

    async def go():
        return await asyncio.gather(one([face_jpeg] * 5), one(clip_jpegs[:5]))

    (a, _), (b, _) = async_to_sync(go)()
    for got in (a, b):
        assert [m["seq"] for m in got] == list(range(5)) and all(m["type"] == "result" for m in got)
        assert all([f["id"] for f in m["faces"]] == [1] for m in got)


def test_an_idle_connection_outlives_the_channel_layers_blocking_receive(face_jpeg):
    """channels_redis waits 5 s for a channel message; the socket must survive that wait timing out."""
    async def go():
        async with live() as comm:
            await asyncio.sleep(7)
            return await frames(comm, [face_jpeg])

    (msg,) = async_to_sync(go)()
    assert msg["type"] == "result" and len(msg["faces"]) == 1


def test_a_flood_of_commands_is_refused_and_cannot_fill_the_database():
    """Each consenting start writes a row: commands have their own budget."""
    async def go():
        async with live() as comm:
            for _ in range(30):
                await comm.send_to(text_data=json.dumps({"type": "start", "store": True}))
            replies = [await reply(comm) for _ in range(30)]
            # still usable afterwards
            await asyncio.sleep(1.1)
            assert (await command(comm, type="reset"))["type"] == "reset"
            return replies

    replies = async_to_sync(go)()
    refused = [r for r in replies if r["type"] == "error" and r["code"] == "rate_limited"]
    assert len(refused) >= 15
    assert LiveSession.objects.count() <= 12


def test_the_live_pool_turns_opencvs_own_threads_off():
    # the pool and the scanner are the live process's parallelism (inference._one_opencv_thread)
    import cv2

    from emotion.live import inference

    assert inference.executor() is inference.executor()
    assert cv2.getNumThreads() == 1
