"""The admin: stimuli with their markers inline (checked by the markers' rule, no adding a stimulus there),
and the research app's participant variables and values, checked by variables.py's rules."""

import pytest
from django.contrib.auth.models import Permission, User

from emotion.research.models import Participant, ParticipantValue, Variable
from emotion.stimuli.library import markers
from emotion.stimuli.models import EventMarker

pytestmark = pytest.mark.django_db


def inline_form(stimulus, rows: list) -> dict:
    data = {"title": stimulus.title, "consent_text": stimulus.consent_text,
            "markers-TOTAL_FORMS": str(len(rows)), "markers-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
            "markers-MIN_NUM_FORMS": "0", "markers-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data.update({f"markers-{i}-{k}": str(v) for k, v in row.items()})
        data[f"markers-{i}-stimulus"] = str(stimulus.pk)
    return data


def test_stimuli_are_listed_and_edited_with_their_markers(admin_client, video, image):
    m = markers.add(video, "intro", 0, 2)
    listing = admin_client.get("/admin/stimuli/stimulus/").content.decode()
    assert "Hamilton" in listing and "two_people" in listing and "4.5 s shown" in listing and "9.2 s" in listing
    assert f'href="/stimuli/{video.pk}/"' in listing
    page = admin_client.get(f"/admin/stimuli/stimulus/{video.pk}/change/").content.decode()
    assert 'id="markers-group"' in page and 'value="intro"' in page and "You will watch a short clip." in page
    assert admin_client.get("/admin/stimuli/stimulus/add/").status_code == 403

    url = f"/admin/stimuli/stimulus/{video.pk}/change/"
    refused = admin_client.post(url, inline_form(video, [{"id": m.pk, "name": "intro", "start": 0, "end": 2},
                                                         {"name": "late", "start": 5, "end": 12}]))
    assert refused.status_code == 200 and "after the stimulus ends (9.176 s)" in refused.content.decode()
    assert EventMarker.objects.count() == 1
    done = admin_client.post(url, inline_form(video, [{"id": m.pk, "name": "intro", "start": 0, "end": 3},
                                                      {"name": "chorus", "start": 5, "end": 9}]))
    assert done.status_code == 302
    assert [(x.name, x.end) for x in video.markers.all()] == [("intro", 3), ("chorus", 9)]


def test_staff_without_the_permission_do_not_see_stimuli(client, video):
    staff = User.objects.create_user("sam", password="a-long-password-4", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/stimuli/stimulus/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_stimulus"))
    assert client.get("/admin/stimuli/stimulus/").status_code == 200
    assert client.get(f"/admin/stimuli/stimulus/{video.pk}/change/").status_code == 200


def test_participant_variables_and_values_in_the_admin(admin_client, people):
    study = people["study"]
    age = Variable.objects.create(study=study, name="age", kind="number")
    p1 = Participant.objects.create(study=study, code="P01")
    ParticipantValue.objects.create(participant=p1, variable=age, value="34")
    assert "age" in admin_client.get("/admin/research/variable/").content.decode()
    assert "P01" in admin_client.get("/admin/research/participantvalue/").content.decode()
    change = admin_client.get(f"/admin/research/variable/{age.pk}/change/").content.decode()
    assert 'name="kind"' not in change and 'name="name"' not in change          # fixed once defined

    bad_name = admin_client.post("/admin/research/variable/add/", {"study": study.pk, "name": "value", "kind": "number"})
    assert "is a column of the exports" in bad_name.content.decode()
    assert admin_client.post("/admin/research/variable/add/", {"study": study.pk, "name": "group", "kind": "category"}
                             ).status_code == 302
    bad_value = admin_client.post("/admin/research/participantvalue/add/",
                                  {"participant": p1.pk, "variable": age.pk, "value": "12,5"})
    assert "use a decimal point" in bad_value.content.decode()
    other = Participant.objects.create(study=people["outsider"].study_memberships.get().study, code="X1")
    wrong_study = admin_client.post("/admin/research/participantvalue/add/",
                                    {"participant": other.pk, "variable": age.pk, "value": "3"})
    assert "is a variable of “Adverts”" in wrong_study.content.decode()
    ParticipantValue.objects.all().delete()
    assert admin_client.post("/admin/research/participantvalue/add/",
                             {"participant": p1.pk, "variable": age.pk, "value": " 40.0 "}).status_code == 302
    assert ParticipantValue.objects.get().value == "40"
