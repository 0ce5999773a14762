"""Invitation links: only the key's hash is kept, expiry, uses, revoking, open links asking a code; the
participant's page and its media for key holders only; the links page and API by role."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from emotion.research.models import Participant
from emotion.stimuli.models import StimulusLink
from emotion.stimuli.sessions import links

from .remote_support import link_for, make_stimulus, study_with_members

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(django_user_model):
    study, users = study_with_members(django_user_model)
    return make_stimulus(study), users


def signed_in(client, user):
    client.force_login(user)
    return client


def test_only_the_keys_hash_is_stored_and_the_key_opens_the_page(client, setup):
    stimulus, _ = setup
    link, key = link_for(stimulus, "P01")
    assert link.key_hash == hashlib.sha256(key.encode()).hexdigest() and len(key) >= 40
    row = StimulusLink.objects.filter(pk=link.pk).values().get()
    assert not any(key in str(v) for v in row.values())                      # the key itself is nowhere
    assert link.max_uses == 1 and link.participant.code == "P01"
    assert abs(link.expires_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    page = client.get(f"/stimuli/take/{key}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "We study reactions to adverts" in text and "Never an image" in text
    assert 'id="take-code"' not in text                                     # the link knows its participant
    assert page["Referrer-Policy"] == "no-referrer" and "no-cache" in page["Cache-Control"]


def test_an_open_link_asks_for_a_code(client, setup):
    stimulus, _ = setup
    link, key = link_for(stimulus)
    assert link.participant is None and link.max_uses == links.OPEN_DEFAULT_USES
    text = client.get(f"/stimuli/take/{key}/").content.decode()
    assert 'id="take-code"' in text and 'maxlength="64"' in text


def test_unknown_expired_used_up_and_revoked_keys_are_not_found(client, setup):
    stimulus, _ = setup
    assert client.get("/stimuli/take/no-such-key-at-all/").status_code == 404
    expired, expired_key = link_for(stimulus, "P02")
    StimulusLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/stimuli/take/{expired_key}/").status_code == 404
    used, used_key = link_for(stimulus, "P03")
    StimulusLink.objects.filter(pk=used.pk).update(uses=1)
    assert client.get(f"/stimuli/take/{used_key}/").status_code == 404
    revoked, revoked_key = link_for(stimulus, "P04")
    assert client.get(f"/stimuli/take/{revoked_key}/").status_code == 200
    links.revoke(revoked)
    assert client.get(f"/stimuli/take/{revoked_key}/").status_code == 404
    assert links.state(revoked) == "ended" and StimulusLink.objects.filter(pk=revoked.pk).exists()


def test_the_stimulus_is_served_to_the_key_holder_only_with_byte_ranges(client, setup):
    stimulus, _ = setup
    link, key = link_for(stimulus, "P01")
    page = client.get(f"/stimuli/take/{key}/").content.decode()
    media = json.loads(page.split('id="take-config" type="application/json">')[1].split("</script>")[0])["mediaUrl"]
    whole = client.get(media)
    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4"
    assert b"".join(whole.streaming_content) == stimulus.file.open("rb").read()
    part = client.get(media, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and len(b"".join(part.streaming_content)) == 100
    assert client.get(f"/stimuli/take/wrong{key[5:]}/media").status_code == 404
    # the start used the link up: the page opened before goes on loading it, a bare key does not
    StimulusLink.objects.filter(pk=link.pk).update(uses=1)
    assert client.get(media).status_code == 200
    assert client.get(f"/stimuli/take/{key}/media").status_code == 404
    assert client.get(f"/stimuli/take/{key}/media?v=forged").status_code == 404
    links.revoke(link)
    assert client.get(media).status_code == 404


def test_links_page_by_role(client, setup):
    stimulus, users = setup
    url = f"/stimuli/{stimulus.pk}/links/"
    link_for(stimulus, "P01")
    assert client.get(url).status_code == 302                                  # sign in first
    for name in ("owner", "editor", "viewer"):
        page = signed_in(client, users[name]).get(url)
        assert page.status_code == 200 and "P01" in page.content.decode()
        assert ('id="per-code-form"' in page.content.decode()) is (name != "viewer")
    outsider = signed_in(client, users["outsider"])
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"action": "open"}).status_code == 404
    viewer = signed_in(client, users["viewer"])
    assert viewer.post(url, {"action": "open"}).status_code == 403
    assert StimulusLink.objects.count() == 1


def test_links_made_on_the_page_are_shown_once_with_new_participants(client, setup):
    stimulus, users = setup
    Participant.objects.create(study=stimulus.study, code="P01")
    editor = signed_in(client, users["editor"])
    url = f"/stimuli/{stimulus.pk}/links/"
    page = editor.post(url, {"action": "per-code", "participants": ["P01"], "codes": "P02\nP03, P02",
                             "condition": "loud", "days": "3"})
    assert page.status_code == 200
    made = StimulusLink.objects.order_by("participant__code")
    assert [link.participant.code for link in made] == ["P01", "P02", "P03"]
    assert {link.condition.name for link in made} == {"loud"} and all(link.max_uses == 1 for link in made)
    assert set(Participant.objects.values_list("code", flat=True)) == {"P01", "P02", "P03"}
    text = page.content.decode()
    urls = [line.split(",", 1)[1] for line in text.split('id="made-csv">')[1].split("</textarea>")[0].splitlines()[1:]]
    assert len(urls) == 3 and all(u.startswith("http://testserver/stimuli/take/") for u in urls)
    keys = [u.rstrip("/").rsplit("/", 1)[1] for u in urls]
    assert {hashlib.sha256(k.encode()).hexdigest() for k in keys} == {link.key_hash for link in made}
    again = editor.get(url).content.decode()                                  # never shown again
    assert not any(k in again for k in keys) and "P03" in again


def test_a_bad_code_refuses_the_request_and_makes_nothing(client, setup):
    stimulus, users = setup
    owner = signed_in(client, users["owner"])
    page = owner.post(f"/stimuli/{stimulus.pk}/links/", {"action": "per-code", "codes": "P01\n" + "x" * 65})
    assert page.status_code == 400 and "longer than 64" in page.content.decode()
    assert not StimulusLink.objects.exists() and not Participant.objects.exists()
    page = owner.post(f"/stimuli/{stimulus.pk}/links/", {"action": "open", "days": "0"})
    assert page.status_code == 400 and not StimulusLink.objects.exists()


def test_revoking_on_the_page(client, setup):
    stimulus, users = setup
    link, key = link_for(stimulus, "P01")
    viewer = signed_in(client, users["viewer"])
    assert viewer.post(f"/stimuli/{stimulus.pk}/links/", {"action": "revoke", "link": link.pk}).status_code == 403
    assert client.get(f"/stimuli/take/{key}/").status_code == 200
    editor = signed_in(client, users["editor"])
    assert editor.post(f"/stimuli/{stimulus.pk}/links/", {"action": "revoke", "link": link.pk}).status_code == 302
    assert client.get(f"/stimuli/take/{key}/").status_code == 404


def test_both_pages_keep_the_content_security_policy(client, setup):
    from tests.test_security import directives, inline_scripts

    stimulus, users = setup
    _, key = link_for(stimulus, "P01")
    client.force_login(users["owner"])
    for url in (f"/stimuli/take/{key}/", f"/stimuli/{stimulus.pk}/links/"):
        res = client.get(url)
        assert directives(res["Content-Security-Policy"])["script-src"] == ["'self'"], url
        assert inline_scripts(res.content.decode()) == [], url
