"""Membership is an invitation the invited user accepts (issue 18, finding 7). Adding a member told the owner
whether a user name exists, and made them a member of a study they never agreed to join."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from emotion.research.models import StudyMember
from emotion.research.studies import services as study_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(db):
    owner = User.objects.create_user("owner")
    User.objects.create_user("bob")
    return study_services.create_study(owner, "Stress study")


def invite_on_page(client, study, username: str) -> tuple:
    """The status and the message the owner's page shows after inviting ``username``."""
    client.force_login(study.owner)
    res = client.post(f"/analyses/studies/{study.pk}/members", {"username": username, "role": "editor"}, follow=True)
    message = [str(m) for m in res.context["messages"]][0]
    return res.status_code, message.replace(username, "NAME")


def test_inviting_says_the_same_whether_or_not_the_account_exists(client, study):
    assert invite_on_page(client, study, "bob") == invite_on_page(client, study, "nobody-by-that-name")
    api = APIClient()
    api.force_authenticate(study.owner)
    answers = []
    for name in ("bob", "nobody-at-all"):
        res = api.post(f"/api/studies/{study.pk}/members/", {"username": name, "role": "viewer"}, format="json")
        answers.append((res.status_code, res.json()["detail"].replace(name, "NAME"), res.json()["members"]))
    assert answers[0] == answers[1] and answers[0][0] == 200
    # the owner's page lists no one until they accept
    client.force_login(study.owner)
    assert "bob" not in client.get(f"/analyses/studies/{study.pk}/").content.decode().split('id="members"')[1]


def test_an_invitation_makes_no_member_until_it_is_accepted(client, study):
    bob = User.objects.get(username="bob")
    study_services.invite_member(study, "bob", "editor")
    client.force_login(bob)
    assert client.get(f"/analyses/studies/{study.pk}/").status_code == 404          # not in it yet
    page = client.get("/analyses/studies/").content.decode()
    assert 'id="invitations"' in page and "Stress study" in page and "editor" in page
    assert client.post(f"/analyses/studies/{study.pk}/invitation", {"answer": "accept"}).status_code == 302
    assert client.get(f"/analyses/studies/{study.pk}/").status_code == 200
    assert 'id="invitations"' not in client.get("/analyses/studies/").content.decode()
    # answering again, or for a study one was not invited to, finds no invitation
    assert client.post(f"/analyses/studies/{study.pk}/invitation", {"answer": "accept"}).status_code == 404


def test_a_declined_invitation_is_gone(client, study):
    bob = User.objects.get(username="bob")
    study_services.invite_member(study, "bob", "viewer")
    client.force_login(bob)
    assert client.post(f"/analyses/studies/{study.pk}/invitation", {"answer": "decline"}).status_code == 302
    assert not StudyMember.objects.filter(study=study, user=bob).exists()
    assert client.get(f"/analyses/studies/{study.pk}/").status_code == 404
