"""A stimulus with recordings written by hand, for the time course's API, CSV and page tests: every figure
they check follows from the frames listed here.

Stimulus "Advert", 2 s, markers "opening" [0, 1) and "=punchline" [1, 2) (a name a spreadsheet would run).
Frames: (stimulus time, happy, reliable); neutral is 1 - happy, so a frame's valence is its happy.

    P1 / A (remote): (0.1, .6) (0.3, .4) (0.45, 1.0, in a gap 0.4-0.5) (0.6, .7) (0.7, 0.0, unreliable)
    P2 / A (remote): (0.2, .5) (0.7, .3)          P2 / B (remote): (0.2, .4) (0.6, .2)
    P3 / A (remote): (0.4, .8) (0.9, .6)          P3 / B (remote): (0.3, .5) (0.7, .3)
    P1 / B (remote): (0.1, .2) (0.6, .3)
    P4 / A (upload, offset 2 s): face 1 at recording time 2.1 (.9), 2.6 (.5), 2.9 (.7) and 1.0 (before the
        stimulus); face 2 has more frames (4) but fewer reliable ones (1), so face 1 is the main face.
    P2 / B (remote, still running): (0.1, 1.0), not counted.
Variables: group (P1 x, P2 x, P3 y, P4 y), age (20, 30, 40, 50). P1 has a baseline clip: happy .1, neutral .9.
"""

from django.contrib.auth.models import User

from emotion.ml.labels import EMOTIONS
from emotion.research.models import Condition, Participant, ParticipantValue, Study, Variable
from emotion.stimuli.models import EventMarker, Recording, RecordingFrame, Stimulus
from tests.research.study_data import add_result, make_analysis

PASSWORD = "a-long-password-9"
REMOTE = {
    ("P1", "A"): [(0.1, .6, True), (0.3, .4, True), (0.45, 1.0, True), (0.6, .7, True), (0.7, 0.0, False)],
    ("P2", "A"): [(0.2, .5, True), (0.7, .3, True)],
    ("P3", "A"): [(0.4, .8, True), (0.9, .6, True)],
    ("P1", "B"): [(0.1, .2, True), (0.6, .3, True)],
    ("P2", "B"): [(0.2, .4, True), (0.6, .2, True)],
    ("P3", "B"): [(0.3, .5, True), (0.7, .3, True)],
}
GAPS = {("P1", "A"): [{"start": 0.4, "end": 0.5, "reason": "pause"}]}
GROUP = {"P1": "x", "P2": "x", "P3": "y", "P4": "y"}
AGE = {"P1": 20, "P2": 30, "P3": 40, "P4": 50}


def probabilities(happy: float) -> dict:
    return {e: happy if e == "happy" else (1 - happy if e == "neutral" else 0.0) for e in EMOTIONS}


def add_frames(recording, frames) -> None:
    RecordingFrame.objects.bulk_create([
        RecordingFrame(recording=recording, time=t, **probabilities(h), top="happy" if h > .5 else "neutral",
                       dominant="happy" if h > .5 else "neutral", reliable=ok) for t, h, ok in frames])


def make_stimulus(study, title="Advert", duration=2.0, markers=(("opening", 0.0, 1.0), ("=punchline", 1.0, 2.0))):
    stimulus = Stimulus.objects.create(study=study, title=title, kind="video", file="stimuli/advert.mp4",
                                       original_name="advert.mp4", size_bytes=1, media_format="mp4", duration=duration)
    for name, start, end in markers:
        EventMarker.objects.create(stimulus=stimulus, name=name, start=start, end=end)
    return stimulus


def build_course(owner=None) -> dict:
    owner = owner or User.objects.create_user("owner", password=PASSWORD)
    study = Study.objects.create(owner=owner, name="Adverts")
    conditions = {n: Condition.objects.create(study=study, name=n) for n in ("A", "B")}
    people = {c: Participant.objects.create(study=study, code=c) for c in ("P1", "P2", "P3", "P4")}
    group = Variable.objects.create(study=study, name="group", kind="category")
    age = Variable.objects.create(study=study, name="age", kind="number")
    for code, p in people.items():
        ParticipantValue.objects.create(participant=p, variable=group, value=GROUP[code])
        ParticipantValue.objects.create(participant=p, variable=age, value=str(AGE[code]))
    stimulus = make_stimulus(study)
    for (code, cond), frames in REMOTE.items():
        r = Recording.objects.create(stimulus=stimulus, participant=people[code], condition=conditions[cond],
                                     source="remote", state="done", gaps=GAPS.get((code, cond), []))
        add_frames(r, frames)
    running = Recording.objects.create(stimulus=stimulus, participant=people["P2"], condition=conditions["B"],
                                       source="remote", state="running")
    add_frames(running, [(0.1, 1.0, True)])
    upload = make_analysis(owner, study, people["P4"], conditions["A"], title="P4 watching")
    for frame, (t, h) in enumerate([(1.0, .2), (2.1, .9), (2.6, .5), (2.9, .7)]):
        add_result(upload, frame, probabilities(h), face_id=1)
        upload.results.filter(frame=frame).update(time=t)
    for frame in range(4):
        add_result(upload, frame, probabilities(0.0), face_id=2, reliable=frame == 0)
    Recording.objects.create(stimulus=stimulus, participant=people["P4"], condition=conditions["A"], source="upload",
                             state="done", analysis=upload, offset=2.0)
    base = make_analysis(owner, study, people["P1"], None, title="P1 rest", is_baseline=True)
    add_result(base, 0, probabilities(.1))
    return {"owner": owner, "study": study, "stimulus": stimulus, "people": people, "conditions": conditions}


def build_filled(owner=None) -> dict:
    """For the page and its pictures: a 20 s advert with two markers, six participants who each watched it
    in both conditions (remote, 10 frames a second), A smiling more around the punchline than B."""
    import numpy as np

    owner = owner or User.objects.create_user("owner", password=PASSWORD)
    study = Study.objects.create(owner=owner, name="Adverts, filled")
    conditions = {n: Condition.objects.create(study=study, name=n) for n in ("A", "B")}
    group = Variable.objects.create(study=study, name="group", kind="category")
    stimulus = make_stimulus(study, "Holiday advert", 20.0, (("logo", 2.0, 5.0), ("punchline", 11.0, 15.0)))
    rng = np.random.default_rng(7)
    times = np.round(np.arange(0, 20, 0.1), 2)
    for i in range(6):
        p = Participant.objects.create(study=study, code=f"P{i + 1}")
        ParticipantValue.objects.create(participant=p, variable=group, value="x" if i < 3 else "y")
        for name, lift in (("A", .45), ("B", .15)):
            lift += rng.normal(0, .12)              # people differ: the band has some width
            happy = np.clip(.15 + lift * np.exp(-((times - 13) / 2.5) ** 2) + .05 * np.sin(times / 2 + i)
                            + rng.normal(0, .04, times.size), 0, 1)
            r = Recording.objects.create(stimulus=stimulus, participant=p, condition=conditions[name],
                                         source="remote", state="done")
            add_frames(r, [(float(t), float(h), bool(rng.random() > .05)) for t, h in zip(times, happy)])
    return {"owner": owner, "study": study, "stimulus": stimulus}
