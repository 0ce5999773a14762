"""Valence, a study's statistics per participant and condition, baseline correction, and their API:
every number checked against the hand-made study of study_data.py."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from emotion.ml import EMOTIONS
from emotion.ml.valence import valence
from emotion.research.models import Analysis, FrameResult
from emotion.research.stats.statistics import study_statistics
from emotion.research.stats.valence import valence_expression
from tests.research.conftest import api_for
from tests.research.study_data import add_result, build_study, make_analysis, member

pytestmark = pytest.mark.django_db


def approx(x):
    return pytest.approx(x, abs=1e-4)


def test_valence_is_happy_minus_the_strongest_negative_emotion():
    assert valence({"happy": .6, "sad": .2, "angry": .1, "disgust": 0, "fear": 0}) == approx(.4)
    assert valence({"happy": .1, "angry": .5, "fear": .3, "disgust": 0, "sad": 0}) == approx(-.4)
    # surprise and neutral are neither positive nor negative
    assert valence({"happy": 0, "angry": 0, "disgust": 0, "fear": 0, "sad": 0, "surprise": 1}) == 0
    assert valence({"happy": 1, "angry": 0, "disgust": 0, "fear": 0, "sad": 0}) == 1
    assert valence({"happy": 0, "angry": 0, "disgust": 1, "fear": 0, "sad": 0}) == -1


def test_the_database_computes_the_same_valence(researcher):
    a = make_analysis(researcher)
    rng = random.Random(3)
    for frame in range(40):
        p = [rng.random() for _ in EMOTIONS]
        add_result(a, frame, {e: v / sum(p) for e, v in zip(EMOTIONS, p)})
    rows = FrameResult.objects.filter(analysis=a).annotate(v=valence_expression()).values(*EMOTIONS, "v")
    assert len(rows) == 40
    for r in rows:
        assert r["v"] == pytest.approx(valence(r), abs=1e-9)
        assert -1 <= r["v"] <= 1


def test_rows_per_participant_and_condition():
    data = build_study()
    s = study_statistics(data["study"], Analysis.objects.filter(study=data["study"]))
    assert s["analyses_not_counted"] == 1 and s["baseline_corrected"] is False
    keyed = {(r["participant"], r["condition"]): r for r in s["rows"]}
    assert list(keyed) == [("P1", "A"), ("P1", None), ("P2", "A"), ("P2", "B")]
    p1a = keyed["P1", "A"]
    # the unreliable result is left out; the one with reliability not measured counts
    assert (p1a["analyses"], p1a["frames"], p1a["frames_left_out"]) == (1, 2, 1)
    assert p1a["mean"] == {"angry": approx(.3), "disgust": 0, "fear": approx(.15), "happy": approx(.35),
                           "sad": approx(.1), "surprise": 0, "neutral": approx(.1)}
    assert p1a["share"]["happy"] == .5 and p1a["share"]["angry"] == .5 and sum(p1a["share"].values()) == approx(1)
    assert p1a["valence"] == approx(0.0)
    assert keyed["P2", "B"]["frames"] == 2 and keyed["P2", "B"]["share"]["neutral"] == 1
    assert keyed["P2", "B"]["analyses"] == 1          # the queued one is not counted
    assert keyed["P1", None]["valence"] == approx(-.1)


def test_conditions_pool_their_participants_face_frames():
    data = build_study()
    s = study_statistics(data["study"], Analysis.objects.filter(study=data["study"]))
    a = next(c for c in s["conditions"] if c["condition"] == "A")
    assert (a["participants"], a["analyses"], a["frames"], a["frames_left_out"]) == (2, 2, 3, 1)
    assert a["mean"]["happy"] == approx((.6 + .1 + .2) / 3)
    assert a["share"]["surprise"] == approx(1 / 3)
    assert a["valence"] == approx((.4 - .4 + .2) / 3)
    assert [c["condition"] for c in s["conditions"]] == ["A", "B", None]


def test_baseline_correction_subtracts_the_participants_baseline_means():
    data = build_study()
    s = study_statistics(data["study"], Analysis.objects.filter(study=data["study"]), baseline=True)
    keyed = {(r["participant"], r["condition"]): r for r in s["rows"]}
    corrected = keyed["P1", "A"]["corrected"]
    assert corrected["baseline_analysis"] == data["base"].pk
    assert corrected["mean"]["happy"] == approx(.35 - .1)
    assert corrected["mean"]["neutral"] == approx(.1 - .7)
    assert corrected["mean"]["angry"] == approx(.3)
    assert corrected["valence"] == approx(0 - (-.1))
    assert keyed["P1", "A"]["mean"]["happy"] == approx(.35)        # the plain figures stay beside
    assert all(v == approx(0) for v in keyed["P1", None]["corrected"]["mean"].values())   # the baseline itself
    assert keyed["P2", "A"]["corrected"] is None                   # P2 has no baseline
    a = next(c for c in s["conditions"] if c["condition"] == "A")
    assert a["corrected"]["frames"] == 2 and a["corrected"]["participants_without_baseline"] == ["P2"]
    assert a["corrected"]["mean"]["happy"] == approx(.25) and a["corrected"]["valence"] == approx(.1)


def test_the_work_is_done_in_the_database_whatever_the_study_size():
    data = build_study()
    analyses = Analysis.objects.filter(study=data["study"])
    with CaptureQueriesContext(connection) as small:
        study_statistics(data["study"], analyses, baseline=True)
    for i in range(12):
        extra = make_analysis(data["owner"], data["study"], data["p1a"].participant, data["p1a"].condition)
        for frame in range(30):
            add_result(extra, frame, {"happy": .5, "neutral": .5})
    with CaptureQueriesContext(connection) as big:
        s = study_statistics(data["study"], analyses, baseline=True)
    assert len(big.captured_queries) == len(small.captured_queries) <= 5
    assert next(r for r in s["rows"] if r["condition"] == "A" and r["participant"] == "P1")["frames"] == 2 + 12 * 30


def test_summary_api_shape_and_baseline_flag():
    data = build_study()
    client = api_for(data["owner"])
    res = client.get(f"/api/studies/{data['study'].pk}/summary/")
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"study", "name", "emotions", "baseline_corrected", "analyses_not_counted", "rows",
                         "conditions"}
    assert body["emotions"] == list(EMOTIONS)
    row = body["rows"][0]
    assert set(row) == {"participant", "condition", "analyses", "frames", "frames_left_out", "mean", "share", "valence"}
    assert list(row["mean"]) == list(EMOTIONS) and list(row["share"]) == list(EMOTIONS)
    corrected = client.get(f"/api/studies/{data['study'].pk}/summary?baseline=1").json()
    assert corrected["baseline_corrected"] is True
    assert corrected["rows"][0]["corrected"]["mean"]["happy"] == approx(.25)
    assert corrected["conditions"][0]["corrected"]["participants_without_baseline"] == ["P2"]


def test_who_sees_a_studys_figures():
    data = build_study()
    url = f"/api/studies/{data['study'].pk}/summary/"
    assert APIClient().get(url).status_code == 401
    viewer = member(data["study"], "vera", "viewer")
    assert api_for(viewer).get(url).status_code == 200
    outsider = api_for(member(data["owner"].owned_studies.create(name="other"), "otto", "editor"))
    assert outsider.get(url).status_code == 404
    for path in ("results.csv", "summary.csv", "results.json"):
        assert outsider.get(f"/api/studies/{data['study'].pk}/{path}").status_code == 404


def test_baseline_endpoint():
    data = build_study()
    client = api_for(data["owner"])
    body = client.get(f"/api/analyses/{data['p1a'].pk}/baseline/").json()
    assert body["participant"] == "P1" and body["baseline_analysis"] == data["base"].pk and body["frames"] == 1
    assert body["mean"]["neutral"] == approx(.7) and body["valence"] == approx(-.1)
    res = client.get(f"/api/analyses/{data['p2a'].pk}/baseline/")
    assert res.status_code == 404 and res.json()["detail"] == "Participant P2 has no baseline analysis."
    loose = make_analysis(data["owner"])
    res = client.get(f"/api/analyses/{loose.pk}/baseline/")
    assert res.status_code == 404 and "no participant" in res.json()["detail"]
    outsider = member(data["owner"].owned_studies.create(name="other"), "otto", "editor")
    assert api_for(outsider).get(f"/api/analyses/{data['p1a'].pk}/baseline/").status_code == 404


def test_the_schema_documents_the_statistics_endpoints(researcher):
    schema = api_for(researcher).get("/api/schema/?format=json").json()
    for path in ("/api/studies/{id}/summary/", "/api/studies/{id}/results.csv", "/api/studies/{id}/summary.csv",
                 "/api/analyses/{id}/baseline/", "/api/analyses/{id}/labels/", "/api/analyses/{id}/agreement/"):
        assert path in schema["paths"], path
    summary = schema["components"]["schemas"]["StudySummary"]["properties"]
    assert {"rows", "conditions", "baseline_corrected"} <= set(summary)
    assert "kappa" in schema["components"]["schemas"]["Agreement"]["properties"]


@pytest.mark.django_db(transaction=True)
def test_the_study_page_compares_conditions_under_the_content_security_policy(daphne_url, playwright_driver):
    """With the policy on: the charts and the table come from static files only."""
    from tests import servers

    data = build_study()
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # a policy violation is a console error; a failed load is checked by its response (the browser's own
    # favicon.ico request has none to see)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" and
            not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda res: problems.append(f"{res.status} {res.url}") if res.status >= 400 else None)
    try:
        servers.sign_in_at(page, daphne_url, f"/analyses/studies/{data['study'].pk}/", "owner", "a-long-password-9")
        page.wait_for_selector('#study-stats-card[data-shown="share"]')
        rows = page.locator("#stats-table tbody tr")
        assert rows.count() == 4
        first = rows.nth(0).locator("td").all_inner_texts()
        assert first[:5] == ["P1", "A", "1", "2", "1"] and first[5 + 3] == "0.500" and first[-1] == "0.000"
        # the bars: participants' means per condition (the baseline clip is no condition), n beside each
        datasets = page.evaluate("Chart.getChart(document.getElementById('stats-chart')).data.datasets"
                                 ".map(d => [d.label, d.data.length, d.n[3]])")
        assert datasets == [["A", 7, 2], ["B", 7, 1]]
        # valence in A: P1 0 (.4 and -.4), P2 .2; mean .1 ± t(0.975, 1) · sd / √2, sd = .2 / √2
        means = page.locator("#means-table tbody tr")
        assert means.nth(0).locator("td").all_inner_texts() == ["A", "2", "0.100", "-1.171 to 1.371"]
        assert means.nth(1).locator("td").all_inner_texts() == ["B", "1", "0.000", "– (n < 2)"]
        assert page.inner_text("#test-lines").startswith("valence: condition A vs B, 1 participant who saw both: "
                                                         "not tested")
        page.select_option("#inference-measure", "share_happy")
        servers.wait_until(page, "document.querySelector('#means-table tbody td:nth-child(3)').textContent === '0.250'")
        servers.ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#study-stats").screenshot(path=str(servers.ARTIFACTS / "study-stats.png"))

        page.check("#stats-baseline")
        page.wait_for_selector('#study-stats-card[data-shown="corrected"]')
        first = rows.nth(0).locator("td").all_inner_texts()
        assert first[5 + 3] == "0.250" and first[-1] == "0.100"          # happy .35 - .1, valence 0 - (-.1)
        assert rows.nth(2).locator("td").all_inner_texts()[5] == "–"     # P2 has no baseline
        assert "Without a baseline, left out of the corrected figures: P2." in page.inner_text("#stats-note")
        assert page.is_disabled('input[name="stats-measure"][value="share"]')
        page.locator("#study-stats").screenshot(path=str(servers.ARTIFACTS / "study-stats-baseline.png"))

        page.set_viewport_size({"width": 375, "height": 800})
        page.wait_for_timeout(300)
        page.locator("#study-stats").screenshot(path=str(servers.ARTIFACTS / "study-stats-375.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert problems == []
    finally:
        browser.close()
