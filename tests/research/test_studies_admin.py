"""The admin for studies: members inline, participants and conditions listed; an analysis' study fields
editable, its files linked to downloads that work, durations and the summary readable, the frame step
fixed once it has run."""

import re

import pytest
from django.contrib.auth.models import User

from emotion.research.admin import seconds_text
from emotion.research.analyses import services
from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis, Condition, Participant
from emotion.research.studies import services as study_services
from tests.conftest import MEDIA, need
from tests.research.conftest import upload
from tests.research.study_data import join

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(db):
    owner = User.objects.create_user("owner")
    s = study_services.create_study(owner, "Stress study")
    join(s, User.objects.create_user("viewer").username, "viewer")
    Participant.objects.create(study=s, code="P01")
    Condition.objects.create(study=s, name="rest")
    return s


def test_durations_read_as_people_say_them():
    assert [seconds_text(v) for v in (26.634424, 59.96, 65, 120, 3725, None)] == [
        "26.6 s", "60.0 s", "1 min 5 s", "2 min", "1 h 2 min", "-"]


def test_study_admin_lists_members_participants_and_conditions(admin_client, study):
    page = admin_client.get(f"/admin/research/study/{study.pk}/change/").content.decode()
    assert "memberships-TOTAL_FORMS" in page and "viewer" in page
    assert 'value="P01"' in page and 'value="rest"' in page
    assert f'href="/analyses/studies/{study.pk}/"' in admin_client.get("/admin/research/study/").content.decode()
    assert "P01" in admin_client.get("/admin/research/participant/").content.decode()
    assert "rest" in admin_client.get("/admin/research/condition/").content.decode()


def test_analysis_admin_links_real_downloads_and_reads_well(admin_client, study, settings):
    a = services.create_analysis(study.owner, upload(need(MEDIA / "two_people.jpg")), study=study, participant="P01")
    url = f"/admin/research/analysis/{a.pk}/change/"
    before = admin_client.get(url).content.decode()
    assert 'name="frame_step"' in before                  # not run yet: still editable
    for field in ("study", "participant", "condition", "tags", "is_baseline"):
        assert f'name="{field}"' in before, field
    run_analysis(a.pk, a.run_id)
    Analysis.objects.filter(pk=a.pk).update(duration=65.2)
    page = admin_client.get(url).content.decode()
    assert 'name="frame_step"' not in page                # it has run: read-only
    assert "1 min 5 s" in page and "0:01:05" not in page
    assert '<table class="summary">' in page and "share of time" in page and "%" in page
    assert '"share_of_time"' not in page                  # no raw JSON
    links = re.findall(r'href="(/analyses/\d+/(?:original|annotated))"', page)
    assert sorted(links) == [f"/analyses/{a.pk}/annotated", f"/analyses/{a.pk}/original"]
    for link in links:
        res = admin_client.get(link)
        assert res.status_code == 200, link
        body = b"".join(res.streaming_content)
        assert body[:3] == b"\xff\xd8\xff"                 # a JPEG, the real file
    assert b"".join(admin_client.get(f"/analyses/{a.pk}/original").streaming_content) == need(MEDIA / "two_people.jpg").read_bytes()


def test_admin_baseline_moves_to_the_new_one(admin_client, study):
    p01 = study.participants.get()
    old = Analysis.objects.create(owner=study.owner, kind="image", original_name="a.jpg", size_bytes=1,
                                  media_format="jpeg", file="uploads/a.jpg", study=study, participant=p01,
                                  is_baseline=True)
    new = Analysis.objects.create(owner=study.owner, kind="image", original_name="b.jpg", size_bytes=1,
                                  media_format="jpeg", file="uploads/b.jpg", study=study, participant=p01)
    form = {"owner": study.owner.pk, "title": "b", "notes": "", "study": study.pk, "participant": p01.pk,
            "condition": "", "tags": "calm", "is_baseline": "on", "frame_step": 1}
    res = admin_client.post(f"/admin/research/analysis/{new.pk}/change/", form)
    assert res.status_code == 302, res.context["adminform"].form.errors
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.is_baseline and not old.is_baseline and new.tags == ["calm"]
