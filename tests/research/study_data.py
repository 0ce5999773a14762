"""A small study with results written by hand, so that every figure computed from it can be checked
by hand (tests of statistics, exports and hand labels)."""

from django.contrib.auth.models import User
from django.db.models import F

from emotion.ml import EMOTIONS
from emotion.research.models import Analysis, Condition, FrameResult, Participant, Study, StudyMember


def make_analysis(owner, study=None, participant=None, condition=None, status=Analysis.Status.DONE, **kw):
    return Analysis.objects.create(
        owner=owner, study=study, participant=participant, condition=condition, status=status, kind="video",
        file="uploads/none.mp4", original_name=kw.pop("original_name", "clip.mp4"), size_bytes=1, media_format="mp4",
        fps=10.0, model_version="test-model", **kw)


def add_result(analysis, frame, probs: dict, dominant=None, reliable=True, face_id=1, box=(0, 0, 50, 50),
               source="detected"):
    """One face on one frame; emotions not named in ``probs`` are 0."""
    values = {e: float(probs.get(e, 0.0)) for e in EMOTIONS}
    x, y, w, h = box
    Analysis.objects.filter(pk=analysis.pk).update(result_count=F("result_count") + 1)
    return FrameResult.objects.create(
        analysis=analysis, frame=frame, time=frame / 10, face_id=face_id, x=x, y=y, w=w, h=h, **values,
        dominant=dominant or max(values, key=values.get), source=source, face_size=int((w * h) ** 0.5),
        sharpness=500.0, brightness=120.0, reliable=reliable, model_version="test-model")


def build_study(owner=None) -> dict:
    """Participants P1 (with a baseline clip) and P2 (without); conditions A and B.

    P1 / A: happy .6 sad .2 angry .1 neutral .1 (valence .4), happy .1 angry .5 fear .3 neutral .1
            (valence -.4, reliability not measured: counts), and an unreliable all-happy one (left out).
    P1 baseline (no condition): neutral .7 sad .2 happy .1 (valence -.1).
    P2 / A: surprise .8 happy .2 (valence .2).
    P2 / B: neutral 1.0 twice; and a queued analysis, not counted.
    """
    owner = owner or User.objects.create_user("owner", password="a-long-password-9")
    study = Study.objects.create(owner=owner, name="Reading aloud")
    p1, p2 = (Participant.objects.create(study=study, code=c) for c in ("P1", "P2"))
    a, b = (Condition.objects.create(study=study, name=n) for n in ("A", "B"))
    p1a = make_analysis(owner, study, p1, a, title="p1 a")
    add_result(p1a, 0, {"happy": .6, "sad": .2, "angry": .1, "neutral": .1})
    add_result(p1a, 1, {"happy": .1, "angry": .5, "fear": .3, "neutral": .1}, reliable=None)
    add_result(p1a, 2, {"happy": 1.0}, reliable=False)
    base = make_analysis(owner, study, p1, None, title="p1 rest", is_baseline=True)
    add_result(base, 0, {"neutral": .7, "sad": .2, "happy": .1})
    p2a = make_analysis(owner, study, p2, a, title="p2 a")
    add_result(p2a, 0, {"surprise": .8, "happy": .2})
    p2b = make_analysis(owner, study, p2, b, title="p2 b")
    add_result(p2b, 0, {"neutral": 1.0})
    add_result(p2b, 1, {"neutral": 1.0})
    make_analysis(owner, study, p2, b, title="still queued", status=Analysis.Status.QUEUED)
    return {"owner": owner, "study": study, "p1a": p1a, "base": base, "p2a": p2a, "p2b": p2b}


def member(study, username: str, role: str):
    user = User.objects.create_user(username, password="a-long-password-8")
    StudyMember.objects.create(study=study, user=user, role=role, accepted=True)
    return user


def join(study, username: str, role: str):
    """``username`` invited into the study and accepting: a member in force."""
    from emotion.research.studies import services as study_services

    invited = study_services.invite_member(study, username, role)
    study_services.answer_invitation(study.pk, invited.user, accept=True)
    return invited.user


# The fixed design of the participant-level statistics (tests/research/test_inference.py): one face-frame
# per clip, happy = the value and neutral the rest, so each participant's mean happy (and valence) in a
# condition is the number written here. P1-P5 saw A and B; P6 saw only A.
DESIGN_HAPPY = {"P1": {"A": .60, "B": .40}, "P2": {"A": .50, "B": .45}, "P3": {"A": .70, "B": .50},
                "P4": {"A": .40, "B": .35}, "P5": {"A": .65, "B": .40}, "P6": {"A": .30}}
DESIGN_GROUP = {"P1": "x", "P2": "x", "P3": "x", "P4": "y", "P5": "y", "P6": "y"}
DESIGN_AGE = {"P1": 21, "P2": 34, "P3": 25, "P4": 62, "P5": 19.5}          # P6's age unknown


def build_design(owner=None) -> dict:
    """DESIGN_HAPPY as analyses, with a category variable ``group`` and a number variable ``age``."""
    from emotion.research.models import ParticipantValue, Variable

    owner = owner or User.objects.create_user("owner", password="a-long-password-9")
    study = Study.objects.create(owner=owner, name="Design")
    conditions = {n: Condition.objects.create(study=study, name=n) for n in ("A", "B")}
    group = Variable.objects.create(study=study, name="group", kind="category")
    age = Variable.objects.create(study=study, name="age", kind="number")
    for code, seen in DESIGN_HAPPY.items():
        p = Participant.objects.create(study=study, code=code)
        ParticipantValue.objects.create(participant=p, variable=group, value=DESIGN_GROUP[code])
        if code in DESIGN_AGE:
            ParticipantValue.objects.create(participant=p, variable=age, value=str(DESIGN_AGE[code]))
        for name, happy in seen.items():
            clip = make_analysis(owner, study, p, conditions[name], title=f"{code} {name}")
            add_result(clip, 0, {"happy": happy, "neutral": 1 - happy})
    return {"owner": owner, "study": study}
