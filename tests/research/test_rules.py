"""Each rule stated once, and everything that applies it agreeing: which results count."""

import re

import pytest

from emotion.live.recorder import is_reliable
from emotion.ml.results import counts
from emotion.research.analyses.summary import summarise
from emotion.research.models import Analysis, FrameResult
from emotion.research.stats.agreement import match
from emotion.research.stats.statistics import group_sums
from tests.conftest import ROOT
from tests.research.study_data import add_result, make_analysis

FLAGS = (True, False, None, True, False)       # None: a result stored before the flag existed


def test_the_rule():
    assert [counts(f) for f in FLAGS] == [True, False, True, True, False]


@pytest.mark.django_db
def test_which_results_count_is_the_same_for_summaries_statistics_agreement_and_live(researcher):
    a = make_analysis(researcher)
    for frame, flag in enumerate(FLAGS):
        add_result(a, frame, {"happy": 1.0}, reliable=flag)
    rows = list(FrameResult.objects.filter(analysis=a).order_by("frame").values())
    expected = sum(counts(f) for f in FLAGS)
    # the analysis summary (pages, exports, API)
    assert summarise(rows, len(FLAGS))["reliable_results"] == expected
    # the study statistics, counted by the database
    sums = group_sums(Analysis.objects.filter(pk=a.pk))
    assert sum(s.frames for _, s in sums.values()) == expected
    assert sum(s.frames_left_out for _, s in sums.values()) == len(FLAGS) - expected
    # agreement with hand labels: one label per frame
    pairs, left_out, _ = match([{"frame": f, "label": "happy", "line": f + 2} for f in range(len(FLAGS))], rows)
    assert len(pairs) == expected and left_out == len(FLAGS) - expected
    # the live session's recorder, on reply faces (no flag: an older engine)
    faces = [{"reliable": f} if f is not None else {} for f in FLAGS]
    assert sum(map(is_reliable, faces)) == expected


def test_page_scripts_take_the_rule_from_one_place():
    """The scripts read ferCounts (static/live/colors.js) rather than restating the comparison."""
    scripts = {p.relative_to(ROOT).as_posix(): p.read_text() for p in (ROOT / "static").rglob("*.js")
               if "vendor" not in p.parts}
    stated = {name for name, text in scripts.items() if re.search(r"reliable\s*!==\s*false", text)}
    assert stated == {"static/live/colors.js"}
    assert "ferCounts" in scripts["static/research/timeline.js"] and "ferCounts" in scripts["static/live/live.js"]


@pytest.mark.django_db
def test_valence_is_the_same_in_study_exports_live_exports_and_the_database(researcher):
    from emotion.live.exports import points
    from emotion.live.models import LiveSession
    from emotion.ml.valence import valence
    from emotion.research.stats.valence import valence_expression

    probs = {"angry": .1, "disgust": .05, "fear": .2, "happy": .5, "sad": .1, "surprise": .05, "neutral": 0.0}
    a = make_analysis(researcher)
    add_result(a, 0, probs)
    in_db = FrameResult.objects.filter(analysis=a).annotate(v=valence_expression()).values_list("v", flat=True).get()
    session = LiveSession(user=researcher, timeline=[{"t": 0.0, "p": [probs[e] for e in probs], "d": "happy", "r": 1}])
    live = next(points(session))["valence"]
    assert valence(probs) == pytest.approx(0.3) and in_db == pytest.approx(0.3) and live == pytest.approx(0.3)


@pytest.mark.django_db
def test_field_lengths_are_the_same_in_the_database_the_api_and_the_forms(client, researcher):
    """The title's 200 characters were written six times."""
    from emotion.research.api import serializers
    from emotion.research.models import FIELD_LIMITS, Condition, Participant, Study

    assert Analysis._meta.get_field("title").max_length == FIELD_LIMITS["title"]
    assert Study._meta.get_field("name").max_length == FIELD_LIMITS["title"]
    assert Participant._meta.get_field("code").max_length == FIELD_LIMITS["code"]
    assert Condition._meta.get_field("name").max_length == FIELD_LIMITS["condition"]
    assert serializers.AnalysisEditSerializer().fields["title"].max_length == FIELD_LIMITS["title"]
    client.force_login(researcher)
    study = Study.objects.create(owner=researcher, name="s")
    fields = (("title", "title"), ("participant", "code"), ("condition", "condition"))
    for page, names in (("/analyses/", fields), (f"/analyses/studies/{study.pk}/", fields),
                        ("/analyses/studies/", (("name", "title"),))):
        html = client.get(page).content.decode()
        for name, key in names:
            for found in re.findall(rf'name="{name}"[^>]*?maxlength="([^"]+)"', html):
                assert found == str(FIELD_LIMITS[key]), (page, name, found)
