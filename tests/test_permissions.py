"""Staff follows Django's permissions (issue 18, finding 4): `is_staff` opens the admin's door and nothing
behind it. Others' studies, analyses, live sessions and originals are reached through a specific
permission (or as superuser), the same on the pages, the API, the progress socket, /media/ and the admin."""

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework.test import APIClient

from emotion.live.models import LiveSession
from emotion.research.models import Analysis, Study, StudyMember
from emotion.research.routing import websocket_urlpatterns
from emotion.research.studies import services as study_services
from tests.conftest import MEDIA, need

# transactional: the socket's database calls close a connection left inside a test's transaction
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def theirs(db):
    """Another user's study with an analysis in it (its original stored), and their live session."""
    owner = User.objects.create_user("owner")
    User.objects.create_user("newcomer")
    study = study_services.create_study(owner, "Stress study")
    name = default_storage.save("uploads/perms-test.jpg", ContentFile(need(MEDIA / "obama.jpg").read_bytes()))
    analysis = Analysis.objects.create(owner=owner, study=study, kind="image", original_name="obama.jpg",
                                       size_bytes=1, media_format="jpeg", file=name, status="done")
    now = timezone.now()
    session = LiveSession.objects.create(user=owner, started_at=now, ended_at=now, model_version="m@1",
                                         emotion_share={}, timeline=[])
    return {"study": study, "analysis": analysis, "session": session}


def staff_with(*perms: str) -> User:
    user = User.objects.create_user(f"staff-{len(perms)}-{'-'.join(perms)}"[:150], is_staff=True)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return User.objects.get(pk=user.pk)        # a fresh object: permissions are cached per object


def socket_opens(user, analysis) -> bool:
    async def go():
        comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/analyses/{analysis.pk}/")
        comm.scope["user"] = user
        connected, _ = await comm.connect()
        await comm.disconnect()
        return connected

    return async_to_sync(go)()


def reach(client, user, t) -> dict:
    """What ``user`` gets for each way of reaching the other user's data (status codes, socket)."""
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    a, s, live = t["analysis"], t["study"], t["session"]
    return {
        "admin studies": client.get("/admin/research/study/").status_code,
        "analysis page": client.get(f"/analyses/{a.pk}/").status_code,
        "original": client.get(f"/analyses/{a.pk}/original").status_code,
        "media": client.get(a.file.url).status_code,
        "api analysis": api.get(f"/api/analyses/{a.pk}/").status_code,
        "api list": api.get("/api/analyses/").json()["count"],
        "socket": socket_opens(user, a),
        "study page": client.get(f"/analyses/studies/{s.pk}/").status_code,
        "live page": client.get(f"/live/sessions/{live.pk}/").status_code,
        "live export": client.get(f"/live/sessions/{live.pk}/session.csv").status_code,
    }


NOTHING = {"admin studies": 403, "analysis page": 404, "original": 404, "media": 404, "api analysis": 404,
           "api list": 0, "socket": False, "study page": 404, "live page": 404, "live export": 404}


def test_staff_without_permissions_gets_what_any_user_gets(client, theirs):
    staff = staff_with()
    assert reach(client, staff, theirs) == NOTHING
    api = APIClient()
    api.force_authenticate(staff)
    s = theirs["study"]
    # the review's three: adding members, deleting the study through the API, reading originals (above)
    assert client.post(f"/analyses/studies/{s.pk}/members", {"username": "newcomer"}).status_code == 404
    assert api.post(f"/api/studies/{s.pk}/members/", {"username": "newcomer", "role": "editor"},
                    format="json").status_code == 404
    assert api.delete(f"/api/studies/{s.pk}/").status_code == 404
    assert client.post(f"/live/sessions/{theirs['session'].pk}/", {"action": "delete"}).status_code == 404
    assert Study.objects.filter(pk=s.pk).exists() and not StudyMember.objects.exists()
    assert LiveSession.objects.filter(pk=theirs["session"].pk).exists()


def test_each_permission_opens_what_it_names(client, theirs):
    viewer = staff_with("research.view_analysis", "research.view_study", "live.view_livesession")
    got = reach(client, viewer, theirs)
    assert got == {"admin studies": 200, "analysis page": 200, "original": 200, "media": 200, "api analysis": 200,
                   "api list": 1, "socket": True, "study page": 200, "live page": 200, "live export": 200}
    api = APIClient()
    api.force_authenticate(viewer)
    s, a, live = theirs["study"], theirs["analysis"], theirs["session"]
    # seeing is not changing: members, deletions and edits each take their own permission
    assert client.post(f"/analyses/studies/{s.pk}/members", {"username": "newcomer"}).status_code == 403
    assert api.delete(f"/api/studies/{s.pk}/").status_code == 403
    assert api.delete(f"/api/analyses/{a.pk}/").status_code == 403
    assert api.patch(f"/api/analyses/{a.pk}/", {"title": "x"}, format="json").status_code == 403
    assert client.post(f"/live/sessions/{live.pk}/", {"action": "delete"}).status_code == 403

    manager = staff_with("research.view_study", "research.change_study")
    client.force_login(manager)
    assert client.post(f"/analyses/studies/{s.pk}/members", {"username": "newcomer"}).status_code == 302
    assert StudyMember.objects.filter(study=s, user__username="newcomer").exists()
    assert client.get(f"/analyses/{a.pk}/original").status_code == 404        # studies, not their analyses

    deleter = staff_with("research.view_study", "research.delete_study")
    api.force_authenticate(deleter)
    assert api.delete(f"/api/studies/{s.pk}/").status_code == 204

    live_deleter = staff_with("live.view_livesession", "live.delete_livesession")
    client.force_login(live_deleter)
    assert client.post(f"/live/sessions/{live.pk}/", {"action": "delete"}).status_code == 302
    assert not LiveSession.objects.filter(pk=live.pk).exists()


def test_a_superuser_reaches_everything(client, theirs):
    root = User.objects.create_superuser("root", "root@example.org", None)
    assert reach(client, root, theirs) == {
        "admin studies": 200, "analysis page": 200, "original": 200, "media": 200, "api analysis": 200,
        "api list": 1, "socket": True, "study page": 200, "live page": 200, "live export": 200}
