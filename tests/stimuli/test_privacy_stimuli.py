"""The privacy features over the stimulus studies: participants' remote sessions under the results'
retention period (stimulus files under none), stimuli and recordings in "Download all my data", and all
of it gone with the owner's account, files included."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from emotion.research.models import Analysis, FrameResult, Study, StudyMember
from emotion.stimuli.library import markers
from emotion.stimuli.models import EventMarker, Recording, RecordingFrame, Stimulus, StimulusLink
from emotion.stimuli.sessions import links, recording_store, recordings
from emotion.stimuli.sessions.recording_exports import COLUMNS
from tests.research.study_data import add_result, make_analysis
from tests.stimuli.conftest import PASSWORD
from tests.stimuli.course_fixture import probabilities

pytestmark = pytest.mark.django_db
GAP = {"start": 0.5, "end": 0.9, "reason": "pause"}


def remote(link, frames, days_old: float = 0, finished: bool = True, code=None) -> Recording:
    """A remote session written as the socket writes it: started through its link, frames flushed, ended."""
    rec = recording_store.start(link, code, "m@1")
    rows = [RecordingFrame(recording_id=rec.pk, time=t, **probabilities(h), top="happy" if h > .5 else "neutral",
                           dominant="happy" if h > .5 else "neutral", confidence=.9, reliable=True)
            for t, h in frames]
    recording_store.flush(rec.pk, rows, len(rows) + 1, len(rows), [GAP])
    if finished:
        recording_store.finish(rec.pk)
    Recording.objects.filter(pk=rec.pk).update(started_at=timezone.now() - timedelta(days=days_old))
    return Recording.objects.get(pk=rec.pk)


def attached(stimulus, participant, days_old: float = 0) -> Recording:
    """A lab session's upload of the study, attached to the stimulus."""
    a = make_analysis(stimulus.study.owner, stimulus.study, participant, title=f"{participant.code} in the lab")
    for frame, h in enumerate((.2, .9)):
        add_result(a, frame, probabilities(h))
    Analysis.objects.filter(pk=a.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return recordings.attach(stimulus, a.pk, 0.0)


def stored_stimulus(study, user, title: str) -> Stimulus:
    name = default_storage.save("stimuli/test/still.jpg", ContentFile(b"s" * 100))
    return Stimulus.objects.create(study=study, title=title, kind="image", file=name, original_name="still.jpg",
                                   size_bytes=100, media_format="jpeg", duration=4.0, created_by=user)


@pytest.fixture
def lab(people, image):
    """Olga's study: the image stimulus with markers, a link per participant (condition A), an open link."""
    markers.add(image, "logo", 0, 1)
    markers.add(image, "=sum(A1)", 1, 4.5)
    made = {n.link.participant.code: n for n in links.create(image, people["owner"], ["P1", "P2", "P3"], "A",
                                                              max_uses=3)}
    made["open"] = links.create(image, people["owner"], None)[0]
    return {**people, "stimulus": image, "links": made}


def purge(*args) -> str:
    out = io.StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


# --- retention ---------------------------------------------------------------------------------------
@pytest.fixture
def aged(lab, settings):
    settings.FER_RETAIN_ORIGINALS_DAYS, settings.FER_RETAIN_ANNOTATED_DAYS = 90, 30
    settings.FER_RETAIN_RESULTS_DAYS, settings.FER_RETAIN_LIVE_DAYS = 365, 30
    link = lab["links"]["P1"].link
    recs = {
        "old": remote(link, [(0.1, .8), (0.2, .6), (0.3, .1)], days_old=400),
        "new": remote(link, [(0.1, .7), (0.2, .3)], days_old=300),
        "abandoned": remote(lab["links"]["P2"].link, [(0.1, .5)], days_old=400, finished=False),
        "playing": remote(lab["links"]["P3"].link, [(0.1, .5)], days_old=0.01, finished=False),
        "upload_old": attached(lab["stimulus"], lab["links"]["P2"].link.participant, days_old=400),
    }
    # the stimulus is older than every period: its file is the researcher's, under none of them
    Stimulus.objects.filter(pk=lab["stimulus"].pk).update(created_at=timezone.now() - timedelta(days=400))
    return {**lab, **recs}


def frame_counts() -> dict:
    return {r.pk: r.frames.count() for r in Recording.objects.all()}


def test_a_dry_run_lists_the_remote_sessions_as_their_own_kind(aged):
    before = frame_counts()
    out = purge("--dry-run")
    # the abandoned session goes too; the upload goes with its analysis, under results
    assert "recordings: would delete 2 remote sessions with 4 frame rows (older than 365 days)" in out
    assert "results: would delete 1 analyses with 2 result rows" in out
    assert frame_counts() == before and len(before) == 5


def test_remote_sessions_past_the_results_period_go_with_their_frames(aged, django_capture_on_commit_callbacks):
    gone = [aged[k].pk for k in ("old", "abandoned", "upload_old")]
    analysis = aged["upload_old"].analysis_id
    with django_capture_on_commit_callbacks(execute=True):
        out = purge()
    assert "recordings: deleted 2 remote sessions with 4 frame rows" in out
    assert not Recording.objects.filter(pk__in=gone).exists()
    assert not RecordingFrame.objects.filter(recording_id__in=gone).exists()
    assert not Analysis.objects.filter(pk=analysis).exists() and not FrameResult.objects.filter(analysis_id=analysis)
    assert frame_counts() == {aged["new"].pk: 2, aged["playing"].pk: 1}
    # the stimulus, its file, markers and links stay (a stimulus file is under no period)
    s = aged["stimulus"]
    assert default_storage.exists(s.file.name) and Stimulus.objects.filter(pk=s.pk).exists()
    assert EventMarker.objects.filter(stimulus=s).count() == 2 and StimulusLink.objects.filter(stimulus=s).count() == 4
    assert "recordings: deleted 0 remote sessions" in purge()


def test_a_running_session_stays_while_it_could_still_go_on(aged, settings, django_capture_on_commit_callbacks):
    settings.FER_MAX_VIDEO_SECONDS = 500 * 24 * 3600           # a stimulus could still be playing
    with django_capture_on_commit_callbacks(execute=True):
        out = purge()
    assert "recordings: deleted 1 remote sessions with 3 frame rows" in out
    assert Recording.objects.filter(pk=aged["abandoned"].pk, frames__isnull=False).exists()
    assert not Recording.objects.filter(pk=aged["old"].pk).exists()


def test_zero_keeps_remote_sessions_for_ever(aged, settings, django_capture_on_commit_callbacks):
    settings.FER_RETAIN_RESULTS_DAYS = 0
    before = frame_counts()
    with django_capture_on_commit_callbacks(execute=True):
        out = purge()
    assert "recordings: kept for ever (FER_RETAIN_RESULTS_DAYS=0)" in out and frame_counts() == before


# --- the data download ---------------------------------------------------------------------------------
def test_the_download_holds_the_owned_studies_stimuli_and_recordings(lab, client, settings):
    owner, stimulus = lab["owner"], lab["stimulus"]
    p1 = remote(lab["links"]["P1"].link, [(0.1, .8), (0.2, .6), (0.3, .1)])
    open_rec = remote(lab["links"]["open"].link, [(0.4, .3)], finished=False, code="=HYPERLINK(1)")
    lab_rec = attached(stimulus, lab["links"]["P2"].link.participant)
    theirs = Study.objects.create(owner=lab["outsider"], name="Otto's")
    StudyMember.objects.create(study=theirs, user=owner, role="editor", accepted=True)
    stored_stimulus(theirs, owner, "Not in her zip")           # a member's stimulus is the study's
    client.force_login(owner)

    settings.FER_RETAIN_RESULTS_DAYS = 365
    page = " ".join(client.get("/account/data/").content.decode().split())
    assert "1 stimulus and 3 participant recordings of them" in page
    row = page[page.index("Participants&#x27; remote sessions"):]
    assert row[:row.index("</tr>")].endswith("365 days, then deleted</td>")
    assert "Stimuli and their event markers</td><td>until you delete them" in page

    res = client.get("/account/data/download/")
    body = b"".join(res.streaming_content)
    zf = zipfile.ZipFile(io.BytesIO(body))
    names = {p1.pk: f"recordings/{p1.pk}-p1.csv", open_rec.pk: f"recordings/{open_rec.pk}-hyperlink1.csv",
             lab_rec.pk: f"recordings/{lab_rec.pk}-p2.csv"}
    assert set(names.values()) | {"stimuli.json"} <= set(zf.namelist())
    assert not [n for n in zf.namelist() if n.startswith("recordings/") and n not in names.values()]

    [s] = json.loads(zf.read("stimuli.json"))
    assert (s["id"], s["title"], s["study"], s["kind"], s["duration"]) == (stimulus.pk, stimulus.title, "Adverts",
                                                                          "image", 4.5)
    assert s["file_stored"] is True and s["created_by"] == "olga"
    assert s["markers"] == [{"name": "logo", "start": 0.0, "end": 1.0}, {"name": "=sum(A1)", "start": 1.0, "end": 4.5}]
    by_code = {link["participant"]: link for link in s["links"]}
    assert set(by_code) == {"P1", "P2", "P3", None} and by_code["P1"]["condition"] == "A"
    assert (by_code["P1"]["uses"], by_code["P1"]["max_uses"]) == (1, 3) and by_code["P1"]["expires_at"]
    assert by_code[None]["open"] is True and by_code[None]["uses"] == 1
    for made in lab["links"].values():                          # neither the keys nor their hashes
        assert made.key.encode() not in body and made.link.key_hash.encode() not in body
    recs = {r["id"]: r for r in s["recordings"]}
    assert set(recs) == set(names) and all(recs[pk]["frames_file"] == name for pk, name in names.items())
    assert recs[p1.pk]["gaps"] == [GAP] and recs[p1.pk]["frames_stored"] == 3 and recs[p1.pk]["state"] == "done"
    assert (recs[p1.pk]["participant"], recs[p1.pk]["condition"], recs[p1.pk]["frames_received"]) == ("P1", "A", 4)
    assert recs[open_rec.pk]["state"] == "running" and recs[open_rec.pk]["participant"] == "=HYPERLINK(1)"
    assert recs[lab_rec.pk]["source"] == "upload" and recs[lab_rec.pk]["analysis"] == lab_rec.analysis_id
    assert [x["stimuli"] for x in json.loads(zf.read("studies.json")) if x["name"] == "Adverts"] == [[stimulus.pk]]

    rows = list(csv.DictReader(io.StringIO(zf.read(names[p1.pk]).decode())))
    assert [(r["time"], r["happy"], r["dominant"]) for r in rows] == [("0.1", "0.8", "happy"), ("0.2", "0.6", "happy"),
                                                                      ("0.3", "0.1", "neutral")]
    upload_rows = list(csv.DictReader(io.StringIO(zf.read(names[lab_rec.pk]).decode())))
    assert list(upload_rows[0]) == list(COLUMNS) and [r["happy"] for r in upload_rows] == ["0.2", "0.9"]
    # the same file as the recording's own download (one writer, spreadsheet-safe)
    own = client.get(f"/api/stimuli/{stimulus.pk}/recordings/{p1.pk}/frames.csv")
    assert zf.read(names[p1.pk]) == b"".join(own.streaming_content)
    assert b"Not in her zip" not in body


# --- deleting the account ------------------------------------------------------------------------------
def test_deleting_the_account_takes_the_owned_studies_stimuli_files_and_recordings(
        lab, client, django_capture_on_commit_callbacks):
    owner, stimulus = lab["owner"], lab["stimulus"]
    elsewhere = stored_stimulus(Study.objects.get(name="Elsewhere"), lab["editor"], "Second")
    recs = [remote(lab["links"]["P1"].link, [(0.1, .8), (0.2, .6)]),
            remote(lab["links"]["open"].link, [(0.3, .2)], finished=False, code="P9"),
            attached(stimulus, lab["links"]["P2"].link.participant)]
    theirs = Study.objects.create(owner=lab["outsider"], name="Otto's")
    StudyMember.objects.create(study=theirs, user=owner, role="editor", accepted=True)
    kept = stored_stimulus(theirs, owner, "Added to Otto's study")
    files = [stimulus.file.name, elsewhere.file.name]
    assert all(default_storage.exists(n) for n in files + [kept.file.name])
    assert RecordingFrame.objects.filter(recording__in=recs).count() == 3

    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        res = client.post("/account/data/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account was deleted" in res.content.decode()
    assert list(Stimulus.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not any(default_storage.exists(n) for n in files)
    assert default_storage.exists(kept.file.name)
    kept.refresh_from_db()
    assert kept.created_by is None                              # the study's material stays with the study
    assert not Recording.objects.exists() and not RecordingFrame.objects.exists()
    assert not EventMarker.objects.exists() and not StimulusLink.objects.exists()
    assert not Analysis.objects.filter(pk=recs[2].analysis_id).exists()
