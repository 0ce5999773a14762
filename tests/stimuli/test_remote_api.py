"""The links and recordings API by role; recordings listed with their gaps and counts; a recording's frames
as JSON and CSV, for a remote session and for an uploaded analysis attached with an offset."""

import csv
import hashlib
import io

import pytest

from emotion.ml import EMOTIONS
from emotion.research.models import Analysis, Participant
from emotion.stimuli.course.data import readings
from emotion.stimuli.models import Recording, RecordingFrame, StimulusLink
from tests.research.conftest import api_for
from tests.research.study_data import add_result, make_analysis

from .remote_support import link_for, make_stimulus, study_with_members

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(django_user_model):
    study, users = study_with_members(django_user_model)
    return make_stimulus(study), users


@pytest.fixture
def api(setup):
    """An API client per role, each with its own token."""
    return {name: api_for(user) for name, user in setup[1].items()}


def remote_recording(stimulus, code="P01", times=(0.0, 0.5, 1.0)):
    link, _ = link_for(stimulus, code)
    rec = Recording.objects.create(stimulus=stimulus, participant=link.participant, source="remote", link=link,
                                   state="done", gaps=[{"start": 1.0, "end": 2.0, "reason": "seek"}],
                                   frames_received=5, frames_analysed=4, frames_reliable=2, model_version="m")
    for i, t in enumerate(times):
        probs = {e: (0.7 if e == "happy" else 0.05) for e in EMOTIONS}
        RecordingFrame.objects.create(recording=rec, time=t, **probs, top="happy", dominant="happy",
                                      confidence=0.6, reliable=i % 2 == 0, face_size=80, sharpness=100.0,
                                      brightness=120.0, noise=5.0)
    return rec


def test_links_api_by_role(setup, api):
    stimulus, users = setup
    url = f"/api/stimuli/{stimulus.pk}/links/"
    made = api["editor"].post(url, {"participants": ["P01", "P02"], "condition": "quiet", "days": 2},
                                         format="json")
    assert made.status_code == 201
    urls = [m["url"] for m in made.json()["links"]]
    assert [m["participant"] for m in made.json()["links"]] == ["P01", "P02"]
    keys = [u.rstrip("/").rsplit("/", 1)[1] for u in urls]
    assert {hashlib.sha256(k.encode()).hexdigest() for k in keys} == set(StimulusLink.objects.values_list("key_hash",
                                                                                                          flat=True))
    opened = api["owner"].post(url, {"max_uses": 30}, format="json").json()["links"][0]
    assert opened["open"] is True and opened["max_uses"] == 30 and opened["participant"] is None
    listed = api["viewer"].get(url)
    assert listed.status_code == 200 and len(listed.json()) == 3
    assert not any(k in listed.content.decode() for k in keys) and "url" not in listed.json()[0]
    assert api["viewer"].post(url, {"participants": ["P03"]}, format="json").status_code == 403
    assert api["outsider"].get(url).status_code == 404
    assert api["outsider"].post(url, {}, format="json").status_code == 404
    bad = api["owner"].post(url, {"participants": ["P04", "x" * 65]}, format="json")
    assert bad.status_code == 400 and "longer than 64" in str(bad.json()["participant"])
    assert not Participant.objects.filter(code="P04").exists()

    link_id = made.json()["links"][0]["id"]
    revoke = f"/api/stimuli/{stimulus.pk}/links/{link_id}/revoke/"
    assert api["viewer"].post(revoke).status_code == 403
    revoked = api["editor"].post(revoke)
    assert revoked.status_code == 200 and revoked.json()["state"] == "ended"
    assert api["editor"].post(f"/api/stimuli/{stimulus.pk}/links/999999/revoke/").status_code == 404


def test_recordings_are_listed_with_gaps_and_counts_and_their_frames_exported(setup, api):
    stimulus, users = setup
    rec = remote_recording(stimulus)
    viewer = api["viewer"]
    (row,) = viewer.get(f"/api/stimuli/{stimulus.pk}/recordings/").json()
    assert row["gaps"] == [{"start": 1.0, "end": 2.0, "reason": "seek"}] and row["participant"] == "P01"
    assert (row["frames_stored"], row["frames_analysed"], row["frames_reliable"]) == (3, 4, 2)
    assert api["outsider"].get(f"/api/stimuli/{stimulus.pk}/recordings/").status_code == 404
    data = viewer.get(f"/api/stimuli/{stimulus.pk}/recordings/{rec.pk}/frames.json").json()
    assert [f["time"] for f in data["frames"]] == [0.0, 0.5, 1.0] and data["recording"]["id"] == rec.pk
    assert [f["reliable"] for f in data["frames"]] == [True, False, True] and data["frames"][0]["happy"] == 0.7
    text = b"".join(viewer.get(f"/api/stimuli/{stimulus.pk}/recordings/{rec.pk}/frames.csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert [r["time"] for r in rows] == ["0.0", "0.5", "1.0"] and list(rows[0])[:8] == ["time", *EMOTIONS]
    assert api["outsider"].get(f"/api/stimuli/{stimulus.pk}/recordings/{rec.pk}/frames.csv").status_code == 404
    assert api["viewer"].delete(f"/api/stimuli/{stimulus.pk}/recordings/{rec.pk}/").status_code == 403
    assert api["editor"].delete(f"/api/stimuli/{stimulus.pk}/recordings/{rec.pk}/").status_code == 204
    assert not Recording.objects.exists() and not RecordingFrame.objects.exists()


def test_an_uploaded_analysis_is_attached_with_an_offset_for_its_participant(setup, api):
    stimulus, users = setup
    study = stimulus.study
    p5 = Participant.objects.create(study=study, code="P05")
    lab = make_analysis(users["owner"], study, p5, title="lab session")
    # frames at 0.0 ... 0.5 s of the video; on frame 3 a passer-by, larger than the participant for that
    # frame: the participant's face (the main one, seen throughout) is followed, not the largest
    for frame in range(6):
        add_result(lab, frame, {"neutral": 1.0})
    add_result(lab, 3, {"happy": 1.0}, face_id=2, box=(100, 0, 90, 90))
    url = f"/api/stimuli/{stimulus.pk}/recordings/"
    assert api["viewer"].post(url, {"analysis": lab.pk, "offset": 0.2}, format="json").status_code == 403
    made = api["editor"].post(url, {"analysis": lab.pk, "offset": 0.2}, format="json")
    assert made.status_code == 201
    rec = Recording.objects.get(pk=made.json()["id"])
    assert (rec.source, rec.analysis, rec.participant, rec.offset) == ("upload", lab, p5, 0.2)
    frames = api["viewer"].get(f"{url}{rec.pk}/frames.json").json()["frames"]
    assert [f["time"] for f in frames] == [0.0, 0.1, 0.2, 0.3]        # stimulus time = video time - offset
    assert [f["top"] for f in frames] == ["neutral"] * 4
    # the time course reads the same face at the same times
    reading = readings([rec])[0]
    shown = [i for i, t in enumerate(reading.times) if 0 <= t <= stimulus.duration]
    assert [round(float(reading.times[i]), 4) for i in shown] == [f["time"] for f in frames]
    assert all(EMOTIONS[int(reading.probs[i].argmax())] == "neutral" for i in shown)

    again = api["editor"].post(url, {"analysis": lab.pk, "offset": 0}, format="json")
    assert again.status_code == 400 and "already" in str(again.json())
    nobody = make_analysis(users["owner"], study, None, title="no participant")
    assert "participant" in str(api["editor"].post(url, {"analysis": nobody.pk, "offset": 0},
                                                              format="json").json())
    photo = make_analysis(users["owner"], study, p5, title="a photo")
    Analysis.objects.filter(pk=photo.pk).update(kind="image")
    assert "video" in str(api["editor"].post(url, {"analysis": photo.pk, "offset": 0}, format="json").json())
    other_study = make_analysis(users["outsider"], None, None, title="elsewhere")
    assert api["editor"].post(url, {"analysis": other_study.pk, "offset": 0},
                                         format="json").status_code == 400
    assert api["editor"].post(url, {"analysis": lab.pk, "offset": "nan"}, format="json").status_code == 400
    assert Recording.objects.count() == 1


def test_attaching_on_the_links_page(client, setup):
    stimulus, users = setup
    p5 = Participant.objects.create(study=stimulus.study, code="P05")
    lab = make_analysis(users["owner"], stimulus.study, p5, title="lab session")
    client.force_login(users["owner"])
    page = client.get(f"/stimuli/{stimulus.pk}/links/").content.decode()
    assert f'<option value="{lab.pk}"' in page
    bad = client.post(f"/stimuli/{stimulus.pk}/links/", {"action": "attach", "analysis": lab.pk, "offset": "soon"})
    assert bad.status_code == 400 and "offset" in bad.content.decode() and not Recording.objects.exists()
    done = client.post(f"/stimuli/{stimulus.pk}/links/", {"action": "attach", "analysis": lab.pk, "offset": "-1.5"},
                       follow=True)
    assert "Attached the recording of P05" in done.content.decode()
    assert Recording.objects.get().offset == -1.5
    assert f'<option value="{lab.pk}"' not in done.content.decode()       # attached: no longer offered
