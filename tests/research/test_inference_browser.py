"""Chromium against daphne, the policy on: the study page's means, intervals and test lines for the fixed
design of study_data.py, split by a variable and filtered by one, as the API gives them."""

import pytest

from emotion.research.models import Analysis
from emotion.research.stats.study_inference import study_inference
from tests import servers
from tests.research.study_data import build_design
from tests.research.test_studies_browser import watch

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_study_page_shows_means_intervals_and_tests(daphne_url, playwright_driver):
    data = build_design()
    study = data["study"]
    analyses = Analysis.objects.filter(study=study)
    plain, split = study_inference(study, analyses), study_inference(study, analyses, split="group")
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    problems = watch(page)
    try:
        servers.sign_in_at(page, daphne_url, f"/analyses/studies/{study.pk}/", "owner", "a-long-password-9")
        page.wait_for_selector('#study-stats-card[data-shown="share"]')
        lines = page.locator("#test-lines li")
        # the line the API writes, word for word: the paired test on P1-P5
        wanted = next(t["label"] for t in plain["tests"] if t["measure"] == "valence")
        assert wanted.startswith("valence: paired t(4) = 3.59, p = 0.023, d_z = 1.60 [")
        assert lines.all_inner_texts() == [wanted]
        assert page.locator("#means-table tbody tr").nth(0).locator("td").all_inner_texts()[:3] == ["A", "6", "0.525"]
        page.select_option("#stats-split", "group")
        servers.wait_until(page, "document.querySelectorAll('#means-table thead th').length === 5")
        assert lines.all_inner_texts() == [t["label"] for t in split["tests"] if t["measure"] == "valence"]
        assert "group x vs y in condition A, 3 and 3 participants" in lines.nth(0).inner_text()
        labels = page.evaluate("Chart.getChart(document.getElementById('valence-chart')).data.labels")
        assert labels == ["A · x", "A · y", "B · x", "B · y"]
        servers.ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#study-stats").screenshot(path=str(servers.ARTIFACTS / "study-means-split.png"))
        page.select_option("#stats-split", "")
        page.select_option("#stats-filter", "group:y")
        servers.wait_until(page, "document.getElementById('stats-note').textContent.includes('3 left out by the filter')")
        assert lines.all_inner_texts()[0].startswith("valence: paired t(1) = 1.50, ")
        assert problems == [], problems
    finally:
        browser.close()
