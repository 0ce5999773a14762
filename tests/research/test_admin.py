"""The admin: filters, search, a link to the timeline, re-run and CSV export, no inline result rows."""

import csv
import io

import pytest

from emotion.research.analyses import services
from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis
from tests.conftest import MEDIA, need
from tests.research.conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(researcher, other_researcher):
    out = []
    for owner, name in ((researcher, "two_people.jpg"), (other_researcher, "obama.jpg")):
        a = services.create_analysis(owner, upload(need(MEDIA / name)), title=name)
        run_analysis(a.pk, a.run_id)
        out.append(Analysis.objects.get(pk=a.pk))
    return out


def test_list_filters_search_and_timeline_link(admin_client, analysed):
    res = admin_client.get("/admin/research/analysis/")
    page = res.content.decode()
    assert res.status_code == 200 and "two_people.jpg" in page and "obama.jpg" in page
    assert f'href="/analyses/{analysed[0].pk}/"' in page
    for f in ("status", "kind", "owner", "created_at"):
        assert f"?{f}" in page or f"{f}__" in page
    found = admin_client.get("/admin/research/analysis/?q=bob").content.decode()
    assert "obama.jpg" in found and "two_people.jpg" not in found
    assert "two_people.jpg" not in admin_client.get("/admin/research/analysis/?status__exact=failed").content.decode()


def test_change_page_shows_the_summary_not_thousands_of_rows(admin_client, analysed):
    page = admin_client.get(f"/admin/research/analysis/{analysed[0].pk}/change/").content.decode()
    assert "share of time" in page and "FrameResult" not in page and "inline-group" not in page


def test_export_and_rerun_actions(admin_client, analysed, django_capture_on_commit_callbacks):
    ids = [str(a.pk) for a in analysed]
    res = admin_client.post("/admin/research/analysis/", {"action": "export_csv", "_selected_action": ids})
    rows = list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))
    assert len(rows) == 3 and {r["analysis"] for r in rows} == set(ids)
    with django_capture_on_commit_callbacks() as enqueued:
        admin_client.post("/admin/research/analysis/", {"action": "rerun_selected", "_selected_action": ids})
    assert len(enqueued) == 2
    assert set(Analysis.objects.values_list("status", flat=True)) == {"queued"}


def test_delete_confirmation_counts_results_instead_of_listing_them(admin_client, analysed):
    page = admin_client.get(f"/admin/research/analysis/{analysed[0].pk}/delete/").content.decode()
    assert "2 per-frame results" in page and "frame 0 face 1" not in page


def test_rerunning_from_the_admin_takes_the_change_permission(client, analysed, django_user_model,
                                                               django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission
    viewer = django_user_model.objects.create_user("viewer-staff", password="a-long-password-9", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_analysis"))
    client.force_login(viewer)
    ids = [str(a.pk) for a in analysed]
    page = client.get("/admin/research/analysis/").content.decode()
    assert "export_csv" in page and "rerun_selected" not in page
    with django_capture_on_commit_callbacks() as enqueued:
        client.post("/admin/research/analysis/", {"action": "rerun_selected", "_selected_action": ids})
    assert enqueued == [] and set(Analysis.objects.values_list("status", flat=True)) == {"done"}


def test_tags_are_edited_as_text_not_as_a_json_list(admin_client, analysed):
    """The admin showed tags as raw JSON ("[]", '["pilot"]'); it now writes them as the site's form does."""
    a = analysed[0]
    Analysis.objects.filter(pk=a.pk).update(tags=["pilot", "day 1"])
    page = admin_client.get(f"/admin/research/analysis/{a.pk}/change/").content.decode()
    assert 'value="pilot, day 1"' in page and "[&quot;pilot" not in page
    from emotion.research.admin import TagsField

    field = TagsField(required=False)
    assert field.clean(" talk,  Talk, second ") == ["talk", "second"]
    assert field.prepare_value([]) == ""
