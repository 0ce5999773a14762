"""Admission on its own (emotion/live/admission.py): each check, its code and its words, with a clock
of the test's own. No socket, no server; only the stored-session count goes to the real Redis."""

import json

import pytest

from emotion.live.admission import (COMMAND_BURST, MAX_COMMAND_CHARS, MAX_SESSIONS_PER_CONNECTION, Admission,
                                    Refusal, read_command)
from emotion.live.guards import ClientLimits
from emotion.live.limits import LiveLimits


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


LIMITS = LiveLimits(max_frame_bytes=1000, max_frame_pixels=640 * 480, max_fps=5, burst=5, queue=2,
                    sockets_per_client=2, fps_per_client=8, busy_per_client=3, stored_per_hour=2)


# the same, with frames never in the way of each other: for the checks before the busy one
UNBUSY = LiveLimits(**{**LIMITS.__dict__, "busy_per_client": 100})


def gate(client="a", clients=None, clock=None, limits=LIMITS):
    clock = clock or Clock()
    g = Admission(client, limits, clients or ClientLimits(clock), clock)
    assert g.open() is None
    return g


def test_a_client_holds_at_most_its_sockets_and_gets_a_slot_back_on_close():
    clients = ClientLimits(Clock())
    first, second = gate(clients=clients), gate(clients=clients)
    third = Admission("a", LIMITS, clients)
    refusal = third.open()
    assert refusal.code == "too_many_connections" and "2 live connections" in refusal.message
    assert not third.has_slot
    assert gate("b", clients=clients).has_slot                  # another client is not affected
    first.close(frames_left=0)
    first.close(frames_left=0)                                  # twice gives back one slot only
    assert Admission("a", LIMITS, clients).open() is None
    assert Admission("a", LIMITS, clients).open().code == "too_many_connections"
    assert second.has_slot


def test_a_frame_over_the_size_limit_is_too_large_and_costs_no_turn():
    g = gate(limits=UNBUSY)
    refusal = g.frame(7, 1001, pending=0)
    assert refusal.code == "too_large" and refusal.message.startswith("frame 7: 1,001 bytes")
    assert [g.frame(i, 1000, pending=0) is None for i in range(5)] == [True] * 5   # the burst is all there


def test_a_connection_sends_at_most_its_rate_with_its_burst():
    clock = Clock()
    g = gate(clock=clock, limits=UNBUSY)
    answers = [g.frame(i, 10, pending=0) for i in range(7)]
    assert answers[:5] == [None] * 5
    assert [r.code for r in answers[5:]] == ["rate_limited"] * 2 and "5 frames/s" in answers[5].message
    clock.now = 0.2                                             # one frame's worth at 5 a second
    assert g.frame(8, 10, pending=0) is None and g.frame(9, 10, pending=0).code == "rate_limited"


def test_the_rate_of_a_client_is_counted_over_all_its_connections():
    clock = Clock()
    clients = ClientLimits(clock)
    a, b = gate(clients=clients, clock=clock, limits=UNBUSY), gate(clients=clients, clock=clock, limits=UNBUSY)
    got = [g.frame(i, 10, pending=0) for i in range(5) for g in (a, b)]
    refused = [r for r in got if r is not None]
    assert len(got) - len(refused) == 8                          # one second of fps_per_client
    assert {r.code for r in refused} == {"rate_limited"} and all("from your address" in r.message for r in refused)


def test_a_connection_holds_at_most_its_queue_of_frames():
    g = gate()
    refusal = g.frame(3, 10, pending=2)
    assert refusal.code == "busy" and "2 frames are already waiting" in refusal.message
    assert g.frame(4, 10, pending=1) is None


def test_frames_waiting_or_analysed_are_counted_over_a_clients_connections_until_done():
    clients = ClientLimits(Clock())
    a, b = gate(clients=clients), gate(clients=clients)
    assert a.frame(0, 10, pending=0) is None and a.frame(1, 10, pending=1) is None
    assert b.frame(0, 10, pending=0) is None
    refusal = b.frame(1, 10, pending=1)
    assert refusal.code == "busy" and "3 frames from your address" in refusal.message
    a.frame_done()
    assert b.frame(2, 10, pending=1) is None
    a.close(frames_left=1)                                       # a's other frame will never run
    assert clients.busy["a"] == 2
    a.frame_done()                                               # its analysis ends after the close
    assert clients.busy["a"] == 2


@pytest.mark.parametrize("text, code, words", [
    ("x" * (MAX_COMMAND_CHARS + 1), "bad_command", "at most 4096 characters"),
    ("not json", "bad_command", "JSON object"),
    ("[1, 2]", "bad_command", '"type" string'),
    ('{"type": 3}', "bad_command", '"type" string'),
    ('{"type": "dance"}', "unknown_command", "expected start, stop or reset"),
    ('{"type": "start", "store": "yes"}', "bad_command", '"store" must be true or false'),
])
def test_a_bad_command_is_refused_with_its_reason(text, code, words):
    with pytest.raises(Refusal) as refused:
        gate().command(text, queued=0, max_queued=12)
    assert refused.value.code == code and words in refused.value.message


def test_commands_have_their_own_budget_and_a_bounded_queue():
    clock = Clock()
    g = gate(clock=clock)
    stop = json.dumps({"type": "stop"})
    assert all(g.command(stop, 0, 12) == {"type": "stop"} for _ in range(COMMAND_BURST))
    with pytest.raises(Refusal, match="at most 2 a second"):
        g.command(stop, 0, 12)
    clock.now = 0.5                                              # one command's worth at 2 a second
    with pytest.raises(Refusal) as full:
        g.command(stop, queued=12, max_queued=12)                # the budget allows it, the queue does not
    assert full.value.code == "rate_limited"


def test_a_connection_starts_at_most_its_sessions():
    clock = Clock()
    g = gate(clock=clock)
    start = json.dumps({"type": "start", "store": False})
    for _ in range(MAX_SESSIONS_PER_CONNECTION):
        clock.now += 1
        assert g.command(start, 0, 12)["type"] == "start"
    clock.now += 1
    with pytest.raises(Refusal, match="reconnect to start another") as refused:
        g.command(start, 0, 12)
    assert refused.value.code == "bad_command"


def test_stored_sessions_an_hour_are_counted_per_client(settings):
    settings.FER_LIVE_MAX_STORED_PER_IP_HOUR = 2
    client = f"test-store-{id(object())}"
    limits = LiveLimits.from_settings()
    g, other = gate(client, limits=limits), gate(client + "-other", limits=limits)
    assert g.store() is None and g.store() is None
    refusal = g.store()
    assert refusal.code == "store_limit" and refusal.message.startswith("2 sessions were stored")
    assert "not stored (storing again in 60 min)" in refusal.message
    assert other.store() is None


def test_another_socket_brings_its_own_counts_command_rate_and_name():
    """How a remote session's socket (emotion/stimuli) reuses the gate: its own clients, a faster command
    rate, its connections named its own way; the frame checks and their words stay the live ones."""
    clock, live_clients, own_clients = Clock(), ClientLimits(Clock()), ClientLimits(Clock())
    for _ in range(2):
        gate(clients=live_clients)
    other = Admission("a", LIMITS, own_clients, clock, command_rate=(5.0, 20), what="connections")
    assert other.open() is None                                  # counted apart from the live sockets
    assert Admission("a", LIMITS, own_clients, clock, what="connections").open() is None
    refusal = Admission("a", LIMITS, own_clients, clock, what="connections").open()
    assert refusal.code == "too_many_connections" and refusal.message.startswith("2 connections are already open")
    for _ in range(20):
        other.command_turn(queued=0, max_queued=12)
    with pytest.raises(Refusal, match="at most 5 a second") as refused:
        other.command_turn(queued=0, max_queued=12)
    assert refused.value.code == "rate_limited"
    assert other.frame(1, 10, pending=2).message == gate().frame(1, 10, pending=2).message


@pytest.mark.parametrize("text, code, words", [
    ("x" * 101, "bad_command", "at most 100 characters"),
    ("not json", "bad_command", 'such as {"type": "go"}'),
    ('{"type": "dance"}', "unknown_command", "expected go, halt or wait"),
])
def test_read_command_refuses_what_no_protocol_accepts_in_the_same_words(text, code, words):
    with pytest.raises(Refusal) as refused:
        read_command(text, ("go", "halt", "wait"), '{"type": "go"}', max_chars=100)
    assert refused.value.code == code and words in refused.value.message
    assert refused.value.reply(None) == {"type": "error", "seq": None, "code": code, "message": refused.value.message}
    assert read_command('{"type": "halt", "x": 1}', ("go", "halt"), "") == {"type": "halt", "x": 1}
