"""A user's own data: the "Your data" page, the zip of everything, and deleting the account."""

import csv
import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from rest_framework.authtoken.models import Token

from emotion.live.models import LiveSession
from emotion.research.models import Analysis, FrameResult, Study, StudyMember
from tests.privacy_helpers import make_analysis, make_session

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def people(django_user_model):
    me = django_user_model.objects.create_user("me", email="me@example.org", password=PASSWORD)
    other = django_user_model.objects.create_user("other", password=PASSWORD)
    study = Study.objects.create(owner=me, name="Stress study")
    StudyMember.objects.create(study=study, user=other, role="editor", accepted=True)
    theirs_study = Study.objects.create(owner=other, name="Their study")
    data = {
        "me": me, "other": other, "study": study, "theirs_study": theirs_study,
        "mine": make_analysis(me, title="My talk", results=4),
        "in_my_study": make_analysis(other, title="member upload", study=study),   # goes with my study
        "mine_elsewhere": make_analysis(me, title="in their study", study=theirs_study),
        "theirs": make_analysis(other, title="their clip"),
        "session": make_session(me), "their_session": make_session(other),
    }
    Token.objects.create(user=me), Token.objects.create(user=other)
    return data


def test_your_data_page_is_linked_and_says_how_long_things_are_kept(client, people, settings):
    settings.FER_RETAIN_ORIGINALS_DAYS, settings.FER_RETAIN_RESULTS_DAYS = 90, 0
    assert client.get("/account/data/").status_code == 302
    client.force_login(people["me"])
    home = client.get("/").content.decode()
    assert 'href="/account/data/"' in home
    page = client.get("/account/data/").content.decode()
    assert "90 days, then deleted" in page and "until you delete them" in page
    assert 'href="/account/data/download/"' in page and 'href="/account/data/delete/"' in page
    assert "2 analyses you uploaded" in page and "1 study you own" in page


def test_the_download_holds_all_of_a_users_data_and_nobody_elses(client, people):
    client.force_login(people["me"])
    res = client.get("/account/data/download/")
    assert res.status_code == 200 and res["Content-Type"] == "application/zip"
    assert 'filename="fer-data-me-' in res["Content-Disposition"]
    body = b"".join(res.streaming_content)
    assert int(res["Content-Length"]) == len(body)
    zf = zipfile.ZipFile(io.BytesIO(body))
    mine, elsewhere = people["mine"], people["mine_elsewhere"]
    assert sorted(zf.namelist()) == sorted([
        "README.txt", "account.json", "analyses.json", "studies.json", "live_sessions.json", "stimuli.json",
        f"analyses/{mine.pk}-my-talk.csv", f"analyses/{elsewhere.pk}-in-their-study.csv"])
    account = json.loads(zf.read("account.json"))
    assert account["username"] == "me" and account["email"] == "me@example.org" and account["api_token_created"]
    assert Token.objects.get(user=people["me"]).key not in body.decode("latin-1")       # a credential, not data
    analyses = json.loads(zf.read("analyses.json"))
    assert [a["title"] for a in analyses] == ["My talk", "in their study"]
    assert analyses[0]["original_stored"] is True and analyses[0]["results_file"] == f"analyses/{mine.pk}-my-talk.csv"
    assert analyses[1]["study"] == "Their study"
    rows = list(csv.DictReader(io.StringIO(zf.read(f"analyses/{mine.pk}-my-talk.csv").decode())))
    assert len(rows) == 4 and rows[0]["happy"] == "0.8" and rows[3]["frame"] == "3"
    studies = json.loads(zf.read("studies.json"))
    assert [s["name"] for s in studies] == ["Stress study"] and studies[0]["stimuli"] == []
    assert json.loads(zf.read("stimuli.json")) == []                    # no stimulus in the studies I own
    assert studies[0]["members"] == [{"username": "other", "role": "editor"}]
    sessions = json.loads(zf.read("live_sessions.json"))
    assert [s["session"] for s in sessions] == [people["session"].pk]
    assert [p["face"] for p in sessions[0]["timeline"]] == [1, 0]
    assert b"their clip" not in body


def test_deleting_the_account_needs_the_password_and_takes_everything_of_the_user(client, people,
                                                                                  django_capture_on_commit_callbacks):
    me = people["me"]
    client.force_login(me)
    gone = [people[k] for k in ("mine", "in_my_study", "mine_elsewhere")]
    kept = people["theirs"]
    files = [n for a in gone for n in (a.file.name, a.annotated.name)]
    assert all(default_storage.exists(n) for n in files)
    res = client.post("/account/data/delete/", {"password": "wrong"})
    assert res.status_code == 400 and "not your password" in res.content.decode()
    assert Analysis.objects.count() == 4 and type(me).objects.filter(pk=me.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        res = client.post("/account/data/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account was deleted, with 3 analyses, 1 studies you owned and 1 live sessions" in res.content.decode()
    assert not type(me).objects.filter(pk=me.pk).exists()
    assert not res.context["user"].is_authenticated                                 # signed out
    assert list(Analysis.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not FrameResult.objects.exclude(analysis=kept).exists()
    assert not any(default_storage.exists(n) for n in files)
    assert default_storage.exists(kept.file.name) and default_storage.exists(kept.annotated.name)
    assert list(Study.objects.values_list("name", flat=True)) == ["Their study"]
    assert list(LiveSession.objects.values_list("pk", flat=True)) == [people["their_session"].pk]
    assert list(Token.objects.values_list("user__username", flat=True)) == ["other"]
    assert client.get("/account/data/").status_code == 302
