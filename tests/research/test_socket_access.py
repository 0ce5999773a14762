"""The progress socket re-checks who may listen (issue 18, finding 7): a /ws/analyses/<id>/ socket kept
receiving after its user was removed from the study or signed out. On a real daphne, with the pushes
sent over Redis as the worker sends them."""

import json
from contextlib import contextmanager

import pytest
import requests
from django.contrib.auth.models import User
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from emotion.research.analyses import progress
from emotion.research.models import Analysis
from emotion.research.studies import services as study_services
from tests.research.study_data import join
from tests.servers import signed_in

pytestmark = pytest.mark.django_db(transaction=True)
CLOSED_FOR_ACCESS = 4403


@pytest.fixture
def watched(db):
    owner, member = User.objects.create_user("owner"), User.objects.create_user("member")
    study = study_services.create_study(owner, "S")
    join(study, "member", "viewer")
    a = Analysis.objects.create(owner=owner, study=study, kind="image", original_name="x.jpg", size_bytes=1,
                                media_format="jpeg", file="uploads/x.jpg", status="running")
    return study, member, a


@contextmanager
def watch(daphne_url: str, http: requests.Session, a: Analysis):
    """The analysis page's socket, opened with the browser's cookies; its first message read."""
    cookies = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    with connect(daphne_url.replace("http://", "ws://") + f"/ws/analyses/{a.pk}/", origin=daphne_url,
                 additional_headers={"Cookie": cookies}, open_timeout=30) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "state"
        yield ws


def next_push(ws, a: Analysis, value: float):
    """Push a progress value as the worker does; what the socket gets next: the state, or its close code."""
    a.progress = value
    progress.push(a)
    try:
        return json.loads(ws.recv(timeout=30))["progress"]
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


def test_a_removed_member_stops_receiving(daphne_url, watched):
    study, member, a = watched
    with watch(daphne_url, signed_in(member), a) as ws:
        assert next_push(ws, a, 0.25) == 0.25
        study_services.remove_member(study, member.pk)
        assert next_push(ws, a, 0.5) == CLOSED_FOR_ACCESS


def test_signing_out_stops_the_sockets_of_that_session(daphne_url, watched):
    _, member, a = watched
    http = signed_in(member)
    with watch(daphne_url, http, a) as ws:
        assert next_push(ws, a, 0.25) == 0.25
        assert http.post(f"{daphne_url}/accounts/logout/", headers={"Referer": daphne_url},
                         allow_redirects=False, timeout=30).status_code == 302
        assert next_push(ws, a, 0.5) == CLOSED_FOR_ACCESS
