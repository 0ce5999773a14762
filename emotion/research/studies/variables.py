"""Participant variables: what a study knows about each participant (group, age, a score), defined once
per study with a kind (category or number) and filled in per participant, by the API or as a CSV.

The CSV is wide, one row per participant, the same shape for import and export:

    participant,group,age
    P01,control,34
    P02,patient,

Import rules (``import_csv``), all or nothing: every problem is listed by its line and nothing is
stored until the whole file is clean.

- The first column is ``participant``; every other column names a variable the study has already
  defined (case-insensitively). An unknown column is refused rather than created: its kind (is
  ``1,2`` a number or two group codes?) is the researcher's to say.
- A participant code not yet in the study is created, as an upload does: the variables sheet often
  exists before the videos. The answer lists the codes it created, so a typo shows at once.
- An empty cell removes that participant's value; columns not in the file and participants not in
  it are left as they are.
- A number variable takes a decimal number (``12``, ``-0.5``, ``1e3``); a decimal comma or a unit
  (``12,5``, ``34 y``) is refused, not guessed at.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Iterable, Iterator, Optional

from django.db import transaction

from emotion.ml.export import safe_row
from emotion.web.badtext import bad_character
from emotion.web.refusals import Refused

from ..models import Participant, ParticipantValue, Variable
from .services import participant_named, study_key

MAX_BYTES = 1024 * 1024
MAX_ERRORS = 10
MAX_VALUE = ParticipantValue._meta.get_field("value").max_length
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
# the tidy export's own columns (exports/tidy.py): a variable of one of these names would hide it
RESERVED = {"participant", "condition", "measure", "value", "frames"}
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class VariableFileError(ValueError):
    """A variables file that cannot be used; ``errors`` name their lines."""

    def __init__(self, errors: list):
        self.errors = errors
        super().__init__("; ".join(errors))


# --- single values -----------------------------------------------------------------------------------

def number(text: str) -> float:
    """The number a stored value of a number variable holds."""
    return float(text)


def clean_value(variable: Variable, raw) -> str:
    """``raw`` as stored for ``variable``, or ValueError saying why it does not fit."""
    text = str(raw).strip()
    if not text:
        raise ValueError(f"{variable.name}: empty")
    if len(text) > MAX_VALUE:
        raise ValueError(f"{variable.name}: longer than {MAX_VALUE} characters")
    what = bad_character(text)
    if what:
        raise ValueError(f"{variable.name}: contains {what}")
    if variable.kind == Variable.Kind.NUMBER:
        if not NUMBER.fullmatch(text) or not math.isfinite(float(text)):
            hint = " (use a decimal point, not a comma)" if re.fullmatch(r"[+-]?\d+,\d+", text) else ""
            raise ValueError(f'{variable.name}: "{text}" is not a number{hint}')
        value = float(text)
        # whole numbers stored as such, so that the export gives back 34, not 34.0
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return text


def typed(variable: Variable, text: Optional[str]):
    """A stored value as the exports write it: a number variable's as a number, None when unknown."""
    if text is None:
        return None
    if variable.kind == Variable.Kind.NUMBER:
        value = number(text)
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    return text


# --- defining variables ------------------------------------------------------------------------------

def define(study, name: str, kind: str) -> Variable:
    """A new variable of the study, or Refused (field ``name`` or ``kind``) saying why not."""
    name = check_definition(study, name, kind)
    return Variable.objects.create(study=study, name=name, kind=kind)


def check_definition(study, name: str, kind: str) -> str:
    """The name of a variable the study may define (stripped), or Refused saying why not (the admin's
    form asks too)."""
    name = (name or "").strip()
    if not NAME.fullmatch(name):
        raise Refused("A variable's name is a letter followed by letters, digits or _ (at most 40), so that R "
                      "and pandas take it as a column name.", "name")
    if name.lower() in RESERVED:
        raise Refused(f"“{name}” is a column of the exports; choose another name.", "name")
    if kind not in Variable.Kind.values:
        raise Refused(f"A variable's kind is one of: {', '.join(Variable.Kind.values)}.", "kind")
    if study.variables.filter(name__iexact=name).exists():
        raise Refused(f"The study already has a variable “{name}”.", "name")
    return name


def set_values(study, code: str, values: dict) -> Participant:
    """Set (or with None or "" remove) some variable values of one participant, by variable name; the
    participant is created when new. Refused naming the first problem; nothing is changed then."""
    code = study_key("participant", study, code)
    if not code:
        raise Refused("A participant code is needed.", "participant")
    variables = {v.name: v for v in study.variables.all()}
    cleaned = {}
    for name, raw in values.items():
        if name not in variables:
            raise Refused(f"The study has no variable “{name}”; defined: {', '.join(variables) or 'none'}.",
                          "values")
        try:
            cleaned[variables[name]] = None if raw is None or str(raw).strip() == "" else clean_value(
                variables[name], raw)
        except ValueError as exc:
            raise Refused(str(exc), "values")
    with transaction.atomic():
        participant = participant_named(study, code)
        _store(participant, cleaned)
    return participant


def _store(participant: Participant, cleaned: dict) -> None:
    for variable, value in cleaned.items():
        if value is None:
            ParticipantValue.objects.filter(participant=participant, variable=variable).delete()
        else:
            ParticipantValue.objects.update_or_create(participant=participant, variable=variable,
                                                      defaults={"value": value})


def values_by_participant(study) -> dict:
    """participant code -> {variable name: stored text}, for every participant with a value."""
    out = {}
    rows = ParticipantValue.objects.filter(participant__study=study).values_list(
        "participant__code", "variable__name", "value")
    for code, name, value in rows:
        out.setdefault(code, {})[name] = value
    return out


def category_choices(study) -> list:
    """[(variable name, [its values in use])] of the study's category variables, for the page's split and
    filter choices."""
    used = {}
    for name, value in ParticipantValue.objects.filter(variable__study=study, variable__kind=Variable.Kind.CATEGORY) \
            .order_by("variable__name", "value").values_list("variable__name", "value").distinct():
        used.setdefault(name, []).append(value)
    return [(v.name, used.get(v.name, [])) for v in study.variables.filter(kind=Variable.Kind.CATEGORY)]


# --- the CSV -------------------------------------------------------------------------------------------

def export_rows(study) -> Iterator[dict]:
    variables = list(study.variables.all())
    values = values_by_participant(study)
    for p in study.participants.all():
        mine = values.get(p.code, {})
        yield safe_row({"participant": p.code, **{v.name: typed(v, mine.get(v.name)) for v in variables}})


def export_csv(study) -> str:
    buf = io.StringIO()
    columns = ["participant", *study.variables.values_list("name", flat=True)]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(study))
    return buf.getvalue()


def import_csv(study, data: bytes) -> dict:
    """Store a wide variables file (see the module's docstring). Returns {"participants": rows read,
    "created": codes new to the study, "values_set", "values_removed"}; VariableFileError otherwise."""
    rows = _parse(study, data)
    created, set_count, removed = [], 0, 0
    with transaction.atomic():
        existing = {p.code: p for p in study.participants.all()}
        for code, cleaned in rows:
            participant = existing.get(code)
            if participant is None:
                participant = Participant.objects.create(study=study, code=code)
                created.append(code)
            _store(participant, cleaned)
            set_count += sum(v is not None for v in cleaned.values())
            removed += sum(v is None for v in cleaned.values())
    return {"participants": len(rows), "created": created, "values_set": set_count, "values_removed": removed}


def _parse(study, data: bytes) -> list:
    if len(data) > MAX_BYTES:
        raise VariableFileError([f"The file is larger than {MAX_BYTES // 1024} KB."])
    try:
        text = data.decode("utf-8-sig")       # a spreadsheet's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise VariableFileError([f"line {line}: not UTF-8 text; save the file as UTF-8 CSV."]) from None
    try:
        lines = [r for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise VariableFileError([f"not a readable CSV file ({exc})."]) from None
    if not lines or not any(c.strip() for c in lines[0]):
        raise VariableFileError(["The file is empty: it needs a header (participant, then variable names) and rows."])
    columns = _columns(study, lines[0])
    return _rows(study, columns, lines[1:])


def _columns(study, header: list) -> list:
    names = [h.strip() for h in header]
    if names[0].lower() != "participant":
        raise VariableFileError(['line 1: the first column must be "participant".'])
    defined = {v.name.lower(): v for v in study.variables.all()}
    errors, columns, seen = [], [], set()
    for name in names[1:]:
        v = defined.get(name.lower())
        if v is None:
            errors.append(f'line 1: the study has no variable "{name}"; define it first (defined: '
                          f'{", ".join(v.name for v in defined.values()) or "none"}).')
        elif v.pk in seen:
            errors.append(f'line 1: "{name}" appears twice.')
        else:
            seen.add(v.pk)
        columns.append(v)
    if errors:
        raise VariableFileError(errors[:MAX_ERRORS])
    return columns


def _rows(study, columns: list, lines: Iterable[list]) -> list:
    errors, rows, codes = [], [], {}
    for line, cells in enumerate(lines, start=2):
        if not any(c.strip() for c in cells):
            continue                                     # blank lines are allowed
        if len(cells) != len(columns) + 1:
            errors.append(f"line {line}: {len(cells)} cells, the header has {len(columns) + 1}.")
            continue
        try:
            code = study_key("participant", study, cells[0])
        except Refused as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if not code:
            errors.append(f"line {line}: no participant code.")
        elif code in codes:
            errors.append(f"line {line}: participant {code} is already on line {codes[code]}.")
        codes.setdefault(code, line)
        cleaned = {}
        for variable, cell in zip(columns, cells[1:]):
            try:
                cleaned[variable] = clean_value(variable, cell) if cell.strip() else None
            except ValueError as exc:
                errors.append(f"line {line}: {exc}.")
        rows.append((code, cleaned))
    if errors:
        raise VariableFileError(errors[:MAX_ERRORS] + ([f"… and {len(errors) - MAX_ERRORS} more."]
                                                       if len(errors) > MAX_ERRORS else []))
    return rows
