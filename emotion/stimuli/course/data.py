"""The database's side of a stimulus' time course: who may see it, its recordings' frames on the
stimulus' time axis, the grouping asked for and the participants' baselines, handed to timecourse.py.

- A remote recording's frames are already in stimulus time. An uploaded one's are its analysis'
  results of the participant's face (sessions/recordings.participant_face, as its export reads them),
  at their time minus the recording's offset.
- Only finished recordings count (state done; an upload's analysis done too); how many others the
  stimulus has is said beside the figures.
- Access follows the stimulus' study (emotion/access.py): owner, editors and viewers; anyone else gets
  a 404. An upload's analysis is read only when the user may see it, as the study's figures do.
"""

from __future__ import annotations

import numpy as np

from emotion.access import visible_analyses
from emotion.ml.labels import EMOTIONS
from emotion.research.models import Analysis, FrameResult, Variable
from emotion.research.stats.statistics import baselines
from emotion.research.stats.study_inference import BadOption
from emotion.research.studies.variables import number, values_by_participant

from ..models import Recording, RecordingFrame, Stimulus
from ..sessions.recordings import participant_face
from .timecourse import BIN_DEFAULT, Grouping, Prepared, Reading, check_bin

FRAME_FIELDS = ("time", *EMOTIONS, "reliable")


def finished(stimulus: Stimulus, user) -> tuple:
    """(the recordings that count, how many do not: running, or an upload not analysed or not visible)."""
    recordings = list(stimulus.recordings.select_related("participant", "condition", "analysis"))
    analysed = set(visible_analyses(user).filter(status=Analysis.Status.DONE, stimulus_recording__stimulus=stimulus)
                   .values_list("pk", flat=True))
    done = [r for r in recordings if r.state == Recording.State.DONE
            and (r.source == Recording.Source.REMOTE or r.analysis_id in analysed)]
    return done, len(recordings) - len(done)


def _arrays(rows: list, offset: float = 0.0) -> tuple:
    if not rows:
        return np.zeros(0), np.zeros((0, len(EMOTIONS))), []
    table = np.array([r[:-1] for r in rows], dtype=float)
    return table[:, 0] - offset, table[:, 1:], [r[-1] for r in rows]


def readings(recordings: list) -> list:
    remote = [r for r in recordings if r.source == Recording.Source.REMOTE]
    frames: dict = {r.pk: [] for r in remote}
    for row in RecordingFrame.objects.filter(recording__in=[r.pk for r in remote]).order_by(
            "recording", "time").values_list("recording", *FRAME_FIELDS):
        frames[row[0]].append(row[1:])
    out = []
    for r in recordings:
        if r.source == Recording.Source.REMOTE:
            times, probs, reliable = _arrays(frames[r.pk])
        else:
            face = participant_face(r.analysis)
            rows = list(FrameResult.objects.filter(analysis=r.analysis, face_id=face).order_by("frame")
                        .values_list(*FRAME_FIELDS)) if face is not None else []
            times, probs, reliable = _arrays(rows, r.offset)
        out.append(Reading(r.participant.code, r.condition.name if r.condition else None, times, probs, reliable,
                           r.gaps or ()))
    return out


def grouping(study, by: str) -> Grouping:
    """The grouping ``by`` asks for: "" or "all", "condition", or "variable:<name>"."""
    by = (by or "all").strip()
    if by in ("all", "condition"):
        return Grouping(by)
    name = by.partition(":")[2].strip().lower() if by.startswith("variable:") else None
    variables = {v.name.lower(): v for v in study.variables.all()}
    variable = variables.get(name)
    if variable is None:
        raise BadOption("by", f"“{by}”: group by all, condition, or variable:<name> (variables: "
                              f"{', '.join(v.name for v in variables.values()) or 'none'}).")
    numeric = variable.kind == Variable.Kind.NUMBER
    values = {code: (number(mine[variable.name]) if numeric else mine[variable.name])
              for code, mine in values_by_participant(study).items() if variable.name in mine}
    return Grouping(f"variable:{variable.name}", variable.name, numeric, values)


def baseline_vectors(study, user) -> dict:
    """participant code -> the 8 numbers subtracted (7 mean probabilities, then the valence), from the
    baseline clips the study statistics use (statistics.baselines)."""
    found = baselines(visible_analyses(user).filter(study=study))
    return {code: [*(b.mean[e] for e in EMOTIONS), b.valence] for code, b in found.items()}


def markers(stimulus: Stimulus) -> list:
    return [{"name": m.name, "start": m.start, "end": m.end} for m in stimulus.markers.all()]


def prepare(stimulus: Stimulus, user, bin_width=BIN_DEFAULT, by: str = "", baseline: bool = False) -> tuple:
    """(Prepared, {"counted", "not_counted"} recordings) for a request's options; BadOption (of the study
    statistics) naming the parameter for a bad one."""
    try:
        check_bin(bin_width, stimulus.duration)        # before any frame is read
    except ValueError as exc:
        raise BadOption("bin", str(exc)) from None
    chosen = grouping(stimulus.study, by)
    done, not_counted = finished(stimulus, user)
    base = baseline_vectors(stimulus.study, user) if baseline else None
    prepared = Prepared(readings(done), stimulus.duration, bin_width, chosen, base)
    return prepared, {"counted": len(done), "not_counted": not_counted}


def parse_bin(text) -> float:
    if text in (None, ""):
        return BIN_DEFAULT
    try:
        return float(text)
    except ValueError:
        raise BadOption("bin", f"“{text}” is not a number of seconds.") from None

