"""Limits per client on /ws/live/, over all of one address's sockets: sockets open, frames a second,
frames in progress, stored sessions an hour (counted in Redis, per process while it is down)."""

import itertools
import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from emotion.live.guards import ClientLimits
from emotion.live.models import LiveSession
from fersite.asgi import application
from emotion.web.throttle import FallbackRedisCache, Window, client_key

from .conftest import ALLOWED_ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 30
_addresses = itertools.count(1)


def fresh_address() -> str:
    """An address no other test of this run used: counters in Redis outlive a test."""
    n = next(_addresses)
    return f"10.{(n >> 8) & 255}.{n & 255}.7"


async def open_socket(address: str, expect_hello: bool = True):
    comm = WebsocketCommunicator(application, "/ws/live/", headers=[ALLOWED_ORIGIN])
    comm.scope["client"] = [address, 40000]          # what daphne puts there (from X-Forwarded-For behind the proxy)
    connected, _ = await comm.connect(timeout=WAIT)
    assert connected
    first = await comm.receive_json_from(timeout=WAIT)
    if expect_hello:
        assert first["type"] == "hello", first
    return comm, first


async def replies(comm, n: int) -> list:
    return [await comm.receive_json_from(timeout=WAIT) for _ in range(n)]


# --- the counters themselves ------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_client_limits_count_over_all_sockets_of_a_client():
    clock = Clock()
    limits = ClientLimits(clock)
    assert limits.open("a", 2, fps=3) and limits.open("a", 2, fps=3)
    assert not limits.open("a", 2, fps=3)
    assert limits.open("b", 2, fps=3)                          # another client is not affected
    assert [limits.take_frame("a") for _ in range(4)] == [True, True, True, False]
    clock.t = 1.0                                              # a second later: three more
    assert [limits.take_frame("a") for _ in range(4)] == [True, True, True, False]
    assert limits.start_frame("a", 2) and limits.start_frame("a", 2) and not limits.start_frame("a", 2)
    limits.end_frame("a")
    assert limits.start_frame("a", 2)
    limits.close("a", busy_left=2)                             # its socket's frames never ran
    assert limits.busy["a"] == 0 and limits.sockets["a"] == 1
    limits.close("a")
    assert "a" not in limits.sockets and "a" not in limits.buckets and "a" not in limits.busy
    assert limits.open("a", 2, fps=3)


def test_a_client_is_its_address_or_its_ipv6_slash_64():
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key(None) == client_key("not an address") == "unknown"


def test_counters_fall_back_to_the_process_while_redis_is_down(settings):
    cache = FallbackRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    settings.CACHES = {**settings.CACHES, "limits": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    from django.core.cache import caches

    caches._connections.limits = cache                     # this test's cache, unreachable Redis behind it
    window = Window("t", 2, 60)
    assert [window.hit("x") for _ in range(3)] == [1, 2, 3]
    assert 58 <= window.wait("x") <= 60 and window.wait("y") == 0
    assert not cache.using_redis


# --- through the real consumer --------------------------------------------------------------------
def test_one_address_holds_at_most_its_sockets(settings):
    settings.FER_LIVE_MAX_SOCKETS_PER_IP = 2
    crowd, other = fresh_address(), fresh_address()

    async def go():
        a, _ = await open_socket(crowd)
        b, _ = await open_socket(crowd)
        c, refused = await open_socket(crowd, expect_hello=False)
        closed = await c.receive_output(timeout=WAIT)
        d, _ = await open_socket(other)                     # another address is not affected
        await a.disconnect()
        e, _ = await open_socket(crowd)                     # a slot given back is free again
        for comm in (b, d, e):
            await comm.disconnect()
        return refused, closed

    refused, closed = async_to_sync(go)()
    assert refused["type"] == "error" and refused["code"] == "too_many_connections"
    assert "2 live connections" in refused["message"]
    assert closed["type"] == "websocket.close" and closed["code"] == 4429


def test_frames_a_second_are_counted_over_all_sockets_of_an_address(settings):
    settings.FER_LIVE_MAX_FPS_PER_IP = 5
    address = fresh_address()

    async def go():
        a, _ = await open_socket(address)
        b, _ = await open_socket(address)
        for _ in range(10):                      # not images: those that pass are refused at decoding, quickly
            await a.send_to(bytes_data=b"not a jpeg")
            await b.send_to(bytes_data=b"not a jpeg")
        got = await replies(a, 10) + await replies(b, 10)
        await a.disconnect()
        await b.disconnect()
        return got

    got = async_to_sync(go)()
    codes = [m["code"] for m in got]
    per_address = [m for m in got if m["code"] == "rate_limited" and "from your address" in m["message"]]
    assert codes.count("bad_image") + codes.count("busy") <= 6        # 5 a second over both, and a refill
    assert len(per_address) >= 13, codes


def test_frames_in_progress_are_counted_over_all_sockets_of_an_address(settings, face_jpeg):
    settings.FER_LIVE_MAX_BUSY_PER_IP = 1
    address, other = fresh_address(), fresh_address()

    async def go():
        a, _ = await open_socket(address)
        b, _ = await open_socket(address)
        c, _ = await open_socket(other)
        await a.send_to(bytes_data=face_jpeg)
        await b.send_to(bytes_data=face_jpeg)      # while a's frame is analysed
        await c.send_to(bytes_data=face_jpeg)
        got = (await replies(a, 1))[0], (await replies(b, 1))[0], (await replies(c, 1))[0]
        await b.send_to(bytes_data=face_jpeg)      # a's frame is done: b's turn
        later = (await replies(b, 1))[0]
        for comm in (a, b, c):
            await comm.disconnect()
        return got, later

    (first, second, third), later = async_to_sync(go)()
    assert first["type"] == "result" and third["type"] == "result"
    assert second["type"] == "error" and second["code"] == "busy" and "from your address" in second["message"]
    assert later["type"] == "result"


def test_stored_sessions_an_hour_are_counted_per_address(settings):
    settings.FER_LIVE_MAX_STORED_PER_IP_HOUR = 3
    address, other = fresh_address(), fresh_address()

    async def go():
        a, _ = await open_socket(address)
        got = []
        for _ in range(4):
            await a.send_to(text_data=json.dumps({"type": "start", "store": True}))
            got += await replies(a, 1)
        got += await replies(a, 1)                 # the 4th start's error follows its "started"
        await a.disconnect()
        b, _ = await open_socket(address)           # a new socket does not start the count again
        await b.send_to(text_data=json.dumps({"type": "start", "store": True}))
        again = await replies(b, 2)
        await b.disconnect()
        c, _ = await open_socket(other)
        await c.send_to(text_data=json.dumps({"type": "start", "store": True}))
        elsewhere = await replies(c, 1)
        await c.disconnect()
        return got, again, elsewhere

    got, again, elsewhere = async_to_sync(go)()
    assert [m["store"] for m in got[:3]] == [True, True, True]
    assert got[3] == {"type": "started", "session": None, "store": False}
    assert got[4]["code"] == "store_limit" and "not stored" in got[4]["message"] and "min" in got[4]["message"]
    assert again[0]["store"] is False and again[1]["code"] == "store_limit"
    assert elsewhere[0]["store"] is True
    assert LiveSession.objects.count() == 4


def test_a_signed_in_visitor_counts_as_their_user_not_their_address(settings, client, django_user_model):
    settings.FER_LIVE_MAX_SOCKETS_PER_IP = 1
    address = fresh_address()
    user = django_user_model.objects.create_user("limited", password="pw-for-tests-1")
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def go():
        anon, _ = await open_socket(address)
        comm = WebsocketCommunicator(application, "/ws/live/", headers=[ALLOWED_ORIGIN, (b"cookie", cookie)])
        comm.scope["client"] = [address, 40001]
        connected, _ = await comm.connect(timeout=WAIT)
        hello = await comm.receive_json_from(timeout=WAIT)
        await comm.disconnect()
        await anon.disconnect()
        return connected, hello

    connected, hello = async_to_sync(go)()
    assert connected and hello["type"] == "hello"
    assert hello["limits"]["per_address"]["sockets"] == 1
