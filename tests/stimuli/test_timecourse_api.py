"""The time course over the database and HTTP: recordings as they are stored (remote frames in stimulus time,
an upload's main face shifted by its offset, gaps, unreliable frames, running recordings), the JSON, the
two CSVs read by pandas, bad options, the OpenAPI schema and who may see what (tests/stimuli/course_fixture.py
lists every frame)."""

import io

import pandas as pd
import pytest
from django.test import Client

from tests.research.conftest import api_for
from tests.research.study_data import member
from tests.stimuli.course_fixture import build_course, make_stimulus

pytestmark = pytest.mark.django_db


def url(stimulus, what="time-course/"):
    return f"/api/stimuli/{stimulus.pk}/{what}"


def close(x):
    return pytest.approx(x, abs=1e-4)


def series(figures, key, measure="happy"):
    return next(g for g in figures["groups"] if g["key"] == key)["series"][measure]


def test_the_figures_per_condition_from_stored_recordings():
    data = build_course()
    res = api_for(data["owner"]).get(url(data["stimulus"]), {"by": "condition"})
    assert res.status_code == 200, res.content
    figures = res.json()
    assert figures["stimulus"] == data["stimulus"].pk and figures["title"] == "Advert"
    assert figures["bins"][:2] == [{"start": 0.0, "end": 0.5}, {"start": 0.5, "end": 1.0}] and len(figures["bins"]) == 4
    a = series(figures, "A")
    # bin 0: P1 (.6 + .4) / 2 (its gap's frame left out), P2 .5, P3 .8, and P4's upload: recording time 2.1 is
    # stimulus time 0.1 (offset 2 s), its main face's .9; bin 1: P1 .7 (unreliable 0.0 left out), P2 .3,
    # P3 .6, P4 (.5 + .7) / 2
    assert a["n"][:2] == [4, 4]
    assert a["mean"][:2] == [close((.5 + .5 + .8 + .9) / 4), close((.7 + .3 + .6 + .6) / 4)]
    assert a["n"][2:] == [0, 0] and a["mean"][2:] == [None, None]
    assert series(figures, "B")["mean"][0] == close((.2 + .4 + .5) / 3)
    # six remote recordings and the upload; the running one is not counted
    assert (figures["recordings"], figures["recordings_not_counted"]) == (7, 1)
    # the gap's frame, the unreliable one, and P4's frame before the stimulus started
    assert figures["left_out"]["frames_not_counted"] == 3
    opening = figures["markers"][0]
    test = next(t for t in opening["tests"] if t["measure"] == "valence")
    assert opening["name"] == "opening" and test["test"] == "paired t" and test["n"] == [3]      # P1-P3 saw both


def test_groups_by_variable_and_everyone_together():
    data = build_course()
    client = api_for(data["owner"])
    by_group = client.get(url(data["stimulus"]), {"by": "variable:group"}).json()
    assert [(g["label"], g["participants"]) for g in by_group["groups"]] == [("group = x", 2), ("group = y", 2)]
    by_age = client.get(url(data["stimulus"]), {"by": "variable:AGE"}).json()          # any case
    assert [g["label"] for g in by_age["groups"]] == ["age ≤ 35 (median)", "age > 35 (median)"]
    together = client.get(url(data["stimulus"])).json()
    assert [g["key"] for g in together["groups"]] == ["all"] and together["by"] == "all"
    # P1's two conditions pooled frame by frame in bin 0: .6, .4 (A) and .2 (B)
    assert series(together, "all")["mean"][0] == close(((.6 + .4 + .2) / 3 + (.5 + .4) / 2 + (.8 + .5) / 2 + .9) / 4)


def test_baseline_corrects_who_has_one_and_names_the_others():
    data = build_course()
    figures = api_for(data["owner"]).get(url(data["stimulus"]), {"by": "condition", "baseline": "1"}).json()
    assert figures["baseline_corrected"] is True
    assert figures["left_out"]["uncorrected"] == ["P2", "P3", "P4"]
    assert series(figures, "A")["mean"][0] == close((.5 - .1 + .5 + .8 + .9) / 4)
    assert series(figures, "A", "neutral")["mean"][0] == close((.5 - .9 + .5 + .2 + .1) / 4)


def test_bad_options_are_a_400_naming_the_parameter():
    data = build_course()
    client = api_for(data["owner"])
    for params, field, words in [({"bin": "abc"}, "bin", "not a number"), ({"bin": "0.01"}, "bin", "0.1 to 30"),
                                 ({"by": "variable:height"}, "by", "variables: age, group"),
                                 ({"by": "colour"}, "by", "group by all, condition")]:
        res = client.get(url(data["stimulus"]), params)
        assert res.status_code == 400 and words in res.json()[field][0], (params, res.content)
    assert client.get(url(data["stimulus"], "time-course.csv"), {"bin": "-1"}).status_code == 400


def test_the_time_course_csv_reads_into_pandas_as_it_is():
    data = build_course()
    res = api_for(data["owner"]).get(url(data["stimulus"], "time-course.csv"), {"baseline": "1"})
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    assert "attachment" in res["Content-Disposition"]
    frame = pd.read_csv(io.BytesIO(b"".join(res.streaming_content)))
    assert list(frame.columns) == ["participant", "condition", "age", "group", "bin_start", "bin_end", "measure",
                                   "value", "frames", "baseline_corrected"]
    assert str(frame["value"].dtype) == "float64" and str(frame["frames"].dtype) == "int64"
    assert str(frame["age"].dtype) == "int64" and str(frame["bin_start"].dtype) == "float64"
    assert str(frame["baseline_corrected"].dtype) == "bool"
    p4 = frame[(frame.participant == "P4") & (frame.measure == "happy")]
    assert p4[["condition", "bin_start", "value", "frames"]].values.tolist() == [["A", 0.0, .9, 1], ["A", 0.5, .6, 2]]
    p1 = frame[(frame.participant == "P1") & (frame.condition == "A") & (frame.measure == "happy")]
    assert p1["value"].tolist() == [pytest.approx(.5 - .1), pytest.approx(.7 - .1)] and p1["baseline_corrected"].all()
    assert not frame[frame.participant == "P2"]["baseline_corrected"].any()
    # participants x conditions x bins with frames x 8 measures: P1-P3 in A and B with 2 bins each, P4 in A with 2
    assert len(frame) == (3 * 2 * 2 + 2) * 8


def test_the_marker_means_csv_is_spreadsheet_safe():
    data = build_course()
    data["study"].variables.create(name="marker", kind="category")     # one of the export's own column names
    res = api_for(data["owner"]).get(url(data["stimulus"], "markers/means.csv"))
    assert res.status_code == 200
    frame = pd.read_csv(io.BytesIO(b"".join(res.streaming_content)))
    assert list(frame.columns) == ["participant", "condition", "age", "group", "variable_marker", "marker",
                                   "marker_start", "marker_end", "measure", "value", "frames", "baseline_corrected"]
    # the typed "=punchline" comes back as text, an apostrophe in front, never a formula
    assert set(frame["marker"]) == {"opening"}      # no frame after 1 s: the punchline has no rows
    p1 = frame[(frame.participant == "P1") & (frame.condition == "A") & (frame.measure == "valence")]
    assert p1[["value", "frames"]].values.tolist() == [[pytest.approx((.6 + .4 + .7) / 3), 3]]


def test_a_formula_like_marker_name_is_inert_in_the_csv():
    data = build_course()
    data["stimulus"].markers.filter(name="=punchline").update(start=0.5, end=1.0)
    text = b"".join(api_for(data["owner"]).get(url(data["stimulus"], "markers/means.csv")).streaming_content).decode()
    assert "\n'=punchline," not in text and ",'=punchline," in text and ",=punchline," not in text


def test_an_empty_stimulus_has_bins_and_no_groups():
    data = build_course()
    empty = make_stimulus(data["study"], "Nobody yet", duration=1.2)
    figures = api_for(data["owner"]).get(url(empty), {"by": "condition"}).json()
    assert figures["participants"] == 0 and figures["groups"] == [] and len(figures["bins"]) == 3
    assert figures["markers"][0]["means"] == [] and figures["recordings"] == 0


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
def test_the_owner_and_members_see_it(role):
    data = build_course()
    user = data["owner"] if role == "owner" else member(data["study"], f"a-{role}", role)
    client = api_for(user)
    for what in ("time-course/", "time-course.csv", "markers/means.csv"):
        assert client.get(url(data["stimulus"], what)).status_code == 200, what
    web = Client()
    web.force_login(user)
    page = web.get(f"/stimuli/{data['stimulus'].pk}/time-course/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="stimulus-data"' in html and '<section id="time-course">' in html and 'id="tc-chart"' in html
    assert 'value="variable:age">by age (split at the median)' in html


def test_outsiders_get_a_404_everywhere():
    data = build_course()
    from django.contrib.auth.models import User

    outsider = User.objects.create_user("eve", password="a-long-password-3")
    client = api_for(outsider)
    for what in ("time-course/", "time-course.csv", "markers/means.csv"):
        assert client.get(url(data["stimulus"], what)).status_code == 404, what
    web = Client()
    web.force_login(outsider)
    assert web.get(f"/stimuli/{data['stimulus'].pk}/time-course/").status_code == 404
    anonymous = Client()
    assert anonymous.get(f"/stimuli/{data['stimulus'].pk}/time-course/").status_code == 302     # to sign in
    assert anonymous.get(url(data["stimulus"])).status_code in (401, 403)


def test_the_endpoints_are_in_the_openapi_schema():
    data = build_course()
    schema = api_for(data["owner"]).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/stimuli/{id}/time-course/", "/api/stimuli/{id}/time-course.csv",
                 "/api/stimuli/{id}/markers/means.csv"):
        assert path in schema["paths"], path
        assert schema["paths"][path]["get"]["tags"] == ["stimuli"]
    params = {p["name"] for p in schema["paths"]["/api/stimuli/{id}/time-course/"]["get"]["parameters"]}
    assert {"bin", "by", "baseline"} <= params
    assert "TimeCourse" in schema["components"]["schemas"]
