"""Result rows (results.COLUMNS) as text: CSV, and the command line's table; and the one rule that keeps
every CSV the project writes safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Iterable, List

from .labels import EMOTIONS
from .results import COLUMNS


# A text cell starting with one of these is run as a formula by spreadsheets (=HYPERLINK(...) in a
# title set by one user, opened by another): such cells get a leading apostrophe, which spreadsheets
# show as text. Numbers are never touched (a negative valence stays a number); JSON keeps raw values.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A CSV cell made safe for spreadsheets (see FORMULA_STARTS)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: dict) -> dict:
    return {k: inert(v) for k, v in row.items()}


def rows_to_csv(rows: Iterable[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_row(r) for r in rows)
    return buf.getvalue()


def rows_to_table(rows: List[dict]) -> str:
    head = (f"{'frame':>6} {'time':>8} {'face':>4} {'box':>20}  {'dominant':9} {'top':9} "
            + " ".join(f"{e[:5]:>5}" for e in EMOTIONS) + "  source    reliable")
    lines = [head]
    for r in rows:
        box = f"{r['x']},{r['y']},{r['w']},{r['h']}"
        probs = " ".join(f"{r[e]:5.2f}" for e in EMOTIONS)
        lines.append(f"{r['frame']:>6} {r['time']:>8.3f} {r['face_id']:>4} {box:>20}  {r['dominant']:9} {r['top']:9} {probs}"
                     f"  {r['source']:9} {'yes' if r['reliable'] else 'no'}")
    return "\n".join(lines)
