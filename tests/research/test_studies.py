"""Studies: one rule for who sees and changes what (owner, editor, viewer, outsider, staff, superuser), on the pages and
in the API; uploads into a study with a participant and a condition; editing; one baseline per participant."""

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from emotion.access import analysis_may, analysis_role, deletable_analyses, editable_analyses, visible_analyses
from emotion.research.analyses import services
from emotion.research.models import Analysis, Condition, Participant, Role, Study, StudyMember
from emotion.research.studies import services as study_services
from tests.conftest import MEDIA, need
from tests.research.conftest import api_for, post_file
from tests.research.study_data import join

pytestmark = pytest.mark.django_db


def stored(owner, study=None, title="clip", participant=None, condition=None) -> Analysis:
    name = default_storage.save("uploads/studies-test.jpg", ContentFile(need(MEDIA / "obama.jpg").read_bytes()))
    return Analysis.objects.create(owner=owner, kind="image", original_name="obama.jpg", size_bytes=1,
                                   media_format="jpeg", file=name, title=title, study=study,
                                   participant=participant, condition=condition, status="done")


@pytest.fixture
def team(db):
    """A study owned by `owner`, with an editor and a viewer; an outsider; staff; an analysis in the study
    (uploaded by the editor) and one of the owner outside any study."""
    # no passwords: the tests sign in with force_login, and hashing five passwords takes seconds here
    users = {name: User.objects.create_user(name) for name in ("owner", "editor", "viewer", "outsider")}
    users["staff"] = User.objects.create_user("staff", is_staff=True)          # no permission: no more than anyone
    users["superuser"] = User.objects.create_superuser("root", None, None)
    study = study_services.create_study(users["owner"], "Stress study", "Talks under stress and at rest")
    join(study, "editor", "editor")
    join(study, "viewer", "viewer")
    p01 = Participant.objects.create(study=study, code="P01")
    rest = Condition.objects.create(study=study, name="rest")
    inside = stored(users["editor"], study, "inside", p01, rest)
    outside = stored(users["owner"], None, "outside")
    return {**users, "study": study, "inside": inside, "outside": outside}


EXPECTED = {   # user -> role on (the study's analysis, the owner's analysis outside any study)
    "owner": (Role.OWNER, Role.OWNER),
    "editor": (Role.EDITOR, None),
    "viewer": (Role.VIEWER, None),
    "outsider": (None, None),
    "staff": (None, None),
    "superuser": (Role.OWNER, Role.OWNER),     # by permission, not by a role of their own
}


@pytest.mark.parametrize("who", EXPECTED)
def test_one_rule_for_querysets_and_single_analyses(team, who):
    user = team[who]
    for a, role in zip((team["inside"], team["outside"]), EXPECTED[who]):
        assert analysis_role(user, a) == (None if who == "superuser" else role), (who, a.title)
        assert [analysis_may(user, a, need) for need in (Role.VIEWER, Role.EDITOR, Role.OWNER)] == [
            Role.RANK[role] >= Role.RANK[need] for need in (Role.VIEWER, Role.EDITOR, Role.OWNER)]
        assert visible_analyses(user).filter(pk=a.pk).exists() == (role is not None)
        assert editable_analyses(user).filter(pk=a.pk).exists() == (role in (Role.EDITOR, Role.OWNER))
        assert deletable_analyses(user).filter(pk=a.pk).exists() == (role == Role.OWNER)


def test_a_removed_uploader_still_sees_but_no_longer_edits(team):
    study_services.remove_member(team["study"], team["editor"].pk)
    assert analysis_role(team["editor"], team["inside"]) == Role.VIEWER
    assert not editable_analyses(team["editor"]).filter(pk=team["inside"].pk).exists()
    assert visible_analyses(team["editor"]).count() == 1          # no duplicate rows from the joins


# --- pages --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, see, edit, delete", [("owner", 200, 302, 302), ("editor", 200, 302, 403),
                                                    ("viewer", 200, 403, 403), ("outsider", 404, 404, 404)])
def test_the_pages_follow_the_rule(client, team, who, see, edit, delete):
    client.force_login(team[who])
    a, study = team["inside"], team["study"]
    assert client.get(f"/analyses/{a.pk}/").status_code == see
    assert client.get(f"/analyses/studies/{study.pk}/").status_code == see
    assert client.get(f"/analyses/{a.pk}/results.csv").status_code == see
    res = client.post(f"/analyses/{a.pk}/edit", {"title": f"by {who}", "participant": "P02", "condition": "stress",
                                                 "tags": "pilot, glasses"})
    assert res.status_code == edit
    a.refresh_from_db()
    assert (a.title == f"by {who}") == (edit == 302)
    if edit == 403:
        assert "editor role" in res.content.decode()
    # members: only the owner
    res = client.post(f"/analyses/studies/{study.pk}/members", {"username": "outsider", "role": "viewer"})
    assert res.status_code == {"owner": 302}.get(who, 404 if see == 404 else 403)
    assert StudyMember.objects.filter(study=study, user=team["outsider"]).exists() == (who == "owner")
    StudyMember.objects.filter(user=team["outsider"]).delete()
    res = client.post(f"/analyses/{a.pk}/delete")
    assert res.status_code == delete
    assert Analysis.objects.filter(pk=a.pk).exists() == (delete != 302)
    res = client.post(f"/analyses/studies/{study.pk}/delete")
    assert Study.objects.filter(pk=study.pk).exists() == (who != "owner")


def test_an_edit_sets_participant_condition_tags_and_moves_the_baseline(client, team):
    client.force_login(team["editor"])
    a, study = team["inside"], team["study"]
    other = stored(team["editor"], study, "other", a.participant, a.condition)
    Analysis.objects.filter(pk=other.pk).update(is_baseline=True)
    res = client.post(f"/analyses/{a.pk}/edit", {"title": "rest 1", "notes": "n", "participant": "P01",
                                                 "condition": "stress", "tags": "pilot, Pilot, glasses",
                                                 "is_baseline": "on"})
    assert res.status_code == 302
    a.refresh_from_db()
    other.refresh_from_db()
    assert a.is_baseline and not other.is_baseline
    assert a.condition.name == "stress" and Condition.objects.filter(study=study).count() == 2
    assert a.tags == ["pilot", "glasses"]
    page = client.get(f"/analyses/{a.pk}/edit").content.decode()
    assert 'value="pilot, glasses"' in page and "baseline" in page
    # a refusal keeps what was typed and changes nothing
    res = client.post(f"/analyses/{a.pk}/edit", {"title": "kept", "participant": "", "is_baseline": "on",
                                                 "tags": "x" * 41})
    assert res.status_code == 400 and 'value="kept"' in res.content.decode()
    assert "longer than 40" in res.content.decode()
    a.refresh_from_db()
    assert a.title == "rest 1" and a.is_baseline


def test_a_baseline_needs_a_participant(team):
    a = team["inside"]
    with pytest.raises(services.Refused, match="participant"):
        services.update_analysis(a, participant="", is_baseline=True)
    services.update_analysis(a, is_baseline=True)
    services.update_analysis(a, participant="")       # leaving the participant leaves the baseline too
    a.refresh_from_db()
    assert a.participant is None and not a.is_baseline
    with pytest.raises(services.Refused, match="study"):
        services.update_analysis(team["outside"], participant="P01")


def test_uploading_into_a_study_creates_its_participant_and_condition(client, team, django_capture_on_commit_callbacks):
    study = team["study"]
    client.force_login(team["editor"])
    with open(need(MEDIA / "obama.jpg"), "rb") as fh, django_capture_on_commit_callbacks() as enqueued:
        res = client.post(f"/analyses/studies/{study.pk}/", {"files": [fh], "participant": " P07 ",
                                                              "condition": "stress", "title": "p7"})
    assert res.status_code == 302 and len(enqueued) == 1
    a = Analysis.objects.get(title="p7")
    assert (a.study, a.participant.code, a.condition.name) == (study, "P07", "stress")
    page = client.get(f"/analyses/studies/{study.pk}/").content.decode()
    assert "P07" in page and "stress" in page and 'id="upload-form"' in page
    # a viewer sees the page without the upload form, and may not post to it
    client.force_login(team["viewer"])
    page = client.get(f"/analyses/studies/{study.pk}/").content.decode()
    assert 'id="upload-form"' not in page and 'id="member-form"' not in page and "P07" in page
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        assert client.post(f"/analyses/studies/{study.pk}/", {"files": [fh]}).status_code == 403
    # the list without a study still uploads as before
    client.force_login(team["outsider"])
    with open(need(MEDIA / "obama.jpg"), "rb") as fh:
        assert client.post("/analyses/", {"files": [fh], "title": "alone"}).status_code == 302
    assert Analysis.objects.get(title="alone").study is None


def test_studies_list_create_and_members(client, team):
    client.force_login(team["viewer"])
    page = client.get("/analyses/studies/").content.decode()
    assert "Stress study" in page and "viewer" in page
    assert 'href="/analyses/studies/"' in client.get("/analyses/").content.decode()     # in the navigation
    res = client.post("/analyses/studies/", {"name": "  ", "description": "kept text"})
    assert res.status_code == 400 and "kept text" in res.content.decode()
    res = client.post("/analyses/studies/", {"name": "Mine", "description": ""})
    mine = Study.objects.get(name="Mine")
    assert res["Location"] == f"/analyses/studies/{mine.pk}/" and mine.owner == team["viewer"]
    res = client.post(f"/analyses/studies/{mine.pk}/members", {"username": "nobody", "role": "editor"}, follow=True)
    assert "If an account named “nobody” exists, it was invited as an editor" in res.content.decode()
    client.post(f"/analyses/studies/{mine.pk}/members", {"username": "editor", "role": "editor"})
    client.post(f"/analyses/studies/{mine.pk}/members", {"username": "editor", "role": "viewer"})
    assert StudyMember.objects.get(study=mine, user=team["editor"]).role == "viewer"
    client.post(f"/analyses/studies/{mine.pk}/members", {"remove": team["editor"].pk})
    assert not StudyMember.objects.filter(study=mine).exists()


def test_deleting_a_study_deletes_its_analyses_and_files(client, team, django_capture_on_commit_callbacks):
    name = team["inside"].file.name
    assert default_storage.exists(name)
    client.force_login(team["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        res = client.post(f"/analyses/studies/{team['study'].pk}/delete", follow=True)
    assert "Deleted the study “Stress study” and its 1 analysis" in res.content.decode()
    assert not Analysis.objects.filter(pk=team["inside"].pk).exists() and not default_storage.exists(name)
    assert Analysis.objects.filter(pk=team["outside"].pk).exists()


# --- the API ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, see, patch, delete", [("owner", 200, 200, 204), ("editor", 200, 200, 403),
                                                     ("viewer", 200, 403, 403), ("outsider", 404, 404, 404)])
def test_the_api_follows_the_rule(team, who, see, patch, delete):
    client, a, study = api_for(team[who]), team["inside"], team["study"]
    assert client.get(f"/api/analyses/{a.pk}/").status_code == see
    assert client.get(f"/api/studies/{study.pk}/").status_code == see
    listed = [x["id"] for x in client.get("/api/analyses/").json()["results"]]
    assert (a.pk in listed) == (see == 200)
    res = client.patch(f"/api/analyses/{a.pk}/", {"title": f"by {who}"}, format="json")
    assert res.status_code == patch, res.content
    res = client.post(f"/api/analyses/{a.pk}/rerun/")
    assert res.status_code in ((202, 503) if patch == 200 else (patch,))
    res = client.post(f"/api/studies/{study.pk}/members/", {"username": "outsider", "role": "editor"}, format="json")
    assert res.status_code == (200 if who == "owner" else 404 if see == 404 else 403)
    StudyMember.objects.filter(user=team["outsider"]).delete()
    assert client.delete(f"/api/analyses/{a.pk}/").status_code == delete


def test_api_studies_create_list_detail_and_members(team):
    client = api_for(team["editor"])
    res = client.post("/api/studies/", {"name": "Pilot", "description": "two people"}, format="json")
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["owner"] == "editor" and body["role"] == "owner" and body["members"] == []
    assert client.post("/api/studies/", {"name": ""}, format="json").status_code == 400
    names = {s["name"]: s["role"] for s in client.get("/api/studies/").json()["results"]}
    assert names == {"Pilot": "owner", "Stress study": "editor"}
    res = client.post(f"/api/studies/{body['id']}/members/", {"username": "viewer", "role": "editor"}, format="json")
    assert res.status_code == 200 and res.json()["members"] == []                 # invited: listed once accepted
    study_services.answer_invitation(body["id"], team["viewer"], accept=True)
    res = client.post(f"/api/studies/{body['id']}/members/", {"username": "viewer", "role": "editor"}, format="json")
    assert res.json()["members"] == [{"username": "viewer", "role": "editor"}]
    assert res.json()["detail"] == "viewer is now an editor of this study."
    res = client.post(f"/api/studies/{body['id']}/members/", {"username": "viewer", "role": "admin"}, format="json")
    assert res.status_code == 400 and "role" in res.json()
    res = client.post(f"/api/studies/{body['id']}/members/", {"username": "ghost", "role": "viewer"}, format="json")
    assert res.status_code == 200 and res.json()["detail"].startswith("If an account named “ghost” exists")
    detail = api_for(team["viewer"]).get(f"/api/studies/{team['study'].pk}/").json()
    assert detail["participants"] == ["P01"] and detail["conditions"] == ["rest"] and detail["role"] == "viewer"


def test_api_upload_into_a_study_and_refuse_two_files(team, django_capture_on_commit_callbacks):
    study = team["study"]
    client = api_for(team["editor"])
    with django_capture_on_commit_callbacks() as enqueued:
        res = post_file(client, need(MEDIA / "obama.jpg"), study=study.pk, participant="P02", condition="rest")
    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["study"], body["participant"], body["condition"]) == (study.pk, "P02", "rest") and len(enqueued) == 1
    assert Participant.objects.filter(study=study).count() == 2 and Condition.objects.filter(study=study).count() == 1
    with open(need(MEDIA / "obama.jpg"), "rb") as a, open(need(MEDIA / "two_people.jpg"), "rb") as b:
        res = client.post("/api/analyses/", {"file": [a, b]}, format="multipart")
    assert res.status_code == 400 and "one file per request" in res.json()["file"][0]
    with open(need(MEDIA / "obama.jpg"), "rb") as a, open(need(MEDIA / "two_people.jpg"), "rb") as b:
        res = client.post("/api/analyses/", {"file": a, "other": b}, format="multipart")
    assert res.status_code == 400
    assert Analysis.objects.count() == 3
    # a viewer may not upload into it; a study one is not in is refused by name; a participant needs a study
    assert post_file(api_for(team["viewer"]), need(MEDIA / "obama.jpg"), study=study.pk).status_code == 403
    res = post_file(api_for(team["outsider"]), need(MEDIA / "obama.jpg"), study=study.pk)
    assert res.status_code == 400 and "study" in res.json()
    res = post_file(client, need(MEDIA / "obama.jpg"), participant="P01")
    assert res.status_code == 400 and "study" in res.json()["participant"][0]
    assert Analysis.objects.count() == 3


def test_api_patch_and_filters(team):
    client, a = api_for(team["owner"]), team["inside"]
    res = client.patch(f"/api/analyses/{a.pk}/", {"title": "t", "notes": "n", "participant": "P09", "condition": "stress",
                                                  "tags": ["pilot", " glasses "], "is_baseline": True}, format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    assert (body["title"], body["participant"], body["condition"], body["tags"], body["is_baseline"]) == (
        "t", "P09", "stress", ["pilot", "glasses"], True)
    res = client.patch(f"/api/analyses/{a.pk}/", {"status": "done"}, format="json")
    assert res.status_code == 400 and "status" in res.json()["detail"][0]
    res = client.patch(f"/api/analyses/{a.pk}/", {"notes": "a\x00b"}, format="json")
    assert res.status_code == 400 and "NUL" in res.json()["notes"][0]
    assert client.put(f"/api/analyses/{a.pk}/", {"title": "x"}, format="json").status_code == 405
    Analysis.objects.filter(pk=stored(team["owner"], team["study"], "queued one").pk).update(status="queued")
    ids = lambda q: sorted(x["title"] for x in client.get(f"/api/analyses/{q}").json()["results"])  # noqa: E731
    assert ids(f"?study={team['study'].pk}") == ["queued one", "t"]
    assert ids(f"?study={team['study'].pk}&status=queued") == ["queued one"]
    assert ids("?status=done") == ["outside", "t"]
    assert client.get("/api/analyses/?status=finished").status_code == 400
    assert client.get("/api/analyses/?study=x").status_code == 400


def test_api_index_schema_and_docs(client, team):
    index = client.get("/api/")
    assert index.status_code == 200
    links = index.json()
    assert links["schema"].endswith("/api/schema/") and links["docs"].endswith("/api/docs/")
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/studies/", "/api/studies/{id}/", "/api/studies/{id}/members/", "/api/analyses/{id}/"):
        assert any(p.rstrip("/") == path.rstrip("/") for p in schema["paths"]), path
    analysis = next(v for p, v in schema["paths"].items() if p.rstrip("/") == "/api/analyses/{id}")
    assert "patch" in analysis and "put" not in analysis
    listing = next(v for p, v in schema["paths"].items() if p.rstrip("/") == "/api/analyses")
    assert {p["name"] for p in listing["get"]["parameters"]} >= {"status", "study"}
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()
    assert "script-src 'self'" in docs["Content-Security-Policy"]


# --- the progress socket ------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_progress_socket_lets_study_members_in_and_outsiders_not():
    from asgiref.sync import async_to_sync
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from emotion.research.routing import websocket_urlpatterns

    owner, viewer, outsider = (User.objects.create_user(n) for n in ("owner", "viewer", "outsider"))
    study = study_services.create_study(owner, "S")
    join(study, "viewer", "viewer")
    a = stored(owner, study)
    app = URLRouter(websocket_urlpatterns)

    async def connects(user) -> bool:
        comm = WebsocketCommunicator(app, f"/ws/analyses/{a.pk}/")
        comm.scope["user"] = user
        ok, _ = await comm.connect()
        if ok:
            assert (await comm.receive_json_from())["type"] == "state"
        # a refused socket's consumer is still listening on its channel: end it as a browser would, or
        # the event loop's close cancels its channel-layer read mid-way, which could hang
        await comm.disconnect()
        return ok

    async def both():       # one event loop for both sockets, as one server process has
        return await connects(viewer), await connects(outsider)

    assert async_to_sync(both)() == (True, False)
