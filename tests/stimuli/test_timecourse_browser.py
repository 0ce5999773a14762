"""Chromium against daphne, the Content-Security-Policy on: the time course's own page draws the chart from
the API (a band and a line per group, the markers' table and tests), follows a player's time and seeks it on
a click, says plainly when there is nothing yet, and fits a phone."""

import pytest

from emotion.stimuli.course.data import prepare
from emotion.stimuli.course.timecourse import time_course
from tests import servers
from tests.research.test_studies_browser import watch
from tests.stimuli.course_fixture import PASSWORD, build_filled, make_stimulus

pytestmark = pytest.mark.django_db(transaction=True)
CHART = "Chart.getChart(document.getElementById('tc-chart'))"


def state(page, wanted: str) -> None:
    # null until the page after the sign-in has loaded
    servers.wait_until(page, f"document.getElementById('timecourse')?.dataset.state === '{wanted}'")


def test_the_page_draws_the_groups_markers_and_follows_the_player(daphne_url, playwright_driver):
    data = build_filled()
    stimulus = data["stimulus"]
    prepared, _ = prepare(stimulus, data["owner"], by="condition")
    expected = time_course(prepared)
    empty = make_stimulus(data["study"], "Nobody has watched this yet", 8.0)
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = watch(page)
    servers.ARTIFACTS.mkdir(exist_ok=True)
    try:
        servers.sign_in_at(page, daphne_url, f"/stimuli/{stimulus.pk}/time-course/", "owner", PASSWORD)
        page.wait_for_url(f"{daphne_url}/stimuli/{stimulus.pk}/time-course/")
        state(page, "drawn")
        # by condition (the study has conditions), valence: per group its band's two edges and its mean line
        assert page.evaluate(f"{CHART}.data.datasets.length") == 6
        assert page.evaluate(f"{CHART}.data.datasets.filter((d) => !d.band).map((d) => d.label)") == ["A", "B"]
        line = page.evaluate(f"{CHART}.data.datasets[2].data.map((p) => p.y)")
        assert line == expected["groups"][0]["series"]["valence"]["mean"]
        assert page.evaluate(f"{CHART}.data.datasets[1].data.map((p) => p.y)") == \
            expected["groups"][0]["series"]["valence"]["high"]
        assert page.locator("#tc-markers tbody tr").count() == 4                 # 2 markers x 2 conditions
        tests = page.locator("#tc-tests li").all_inner_texts()
        assert len(tests) == 2 and tests[1].startswith("valence: paired t(5) = ")
        assert "A vs B over “punchline”, 6 participants who saw both" in tests[1]
        assert "95% confidence interval" in page.locator("#tc-band-words").inner_text()
        # the tooltip of the bin under the pointer: each group's mean, interval and n
        at = page.evaluate(f"(() => {{ const c = {CHART}; return [c.scales.x.getPixelForValue(13.2), "
                           "(c.chartArea.top + c.chartArea.bottom) / 2]; })()")
        page.locator("#tc-chart").hover(position={"x": at[0], "y": at[1]})
        lines = servers.wait_until(page, f"{CHART}.tooltip.opacity > 0 && {CHART}.tooltip.body.map((b) => b.lines[0])")
        bin_26 = expected["groups"][0]["series"]["valence"]
        assert lines[0] == (f"A: {bin_26['mean'][26]:.3f}, 95% CI {bin_26['low'][26]:.3f} to {bin_26['high'][26]:.3f}, "
                            "n = 6") and lines[1].startswith("B: ") and len(lines) == 2
        page.screenshot(path=str(servers.ARTIFACTS / "time-course.png"), full_page=True)

        page.select_option("#tc-measure", "happy")
        servers.wait_until(page, "document.getElementById('timecourse').dataset.measure === 'happy'")
        assert page.evaluate(f"{CHART}.data.datasets[2].data.map((p) => p.y)") == \
            expected["groups"][0]["series"]["happy"]["mean"]
        page.select_option("#tc-by", "variable:group")
        servers.wait_until(page, f"{CHART} && {CHART}.data.datasets[2].label === 'group = x'")

        # a player, as the stimulus page has one: a click on the chart seeks it, its time moves the cursor
        page.evaluate("() => { const v = document.createElement('video'); v.id = 'stimulus-media'; "
                      "document.body.appendChild(v); }")
        box = page.evaluate(f"(() => {{ const c = {CHART}; return [c.scales.x.getPixelForValue(12), "
                            "(c.chartArea.top + c.chartArea.bottom) / 2]; })()")
        page.locator("#tc-chart").click(position={"x": box[0], "y": box[1]})
        servers.wait_until(page, "Math.abs(document.getElementById('stimulus-media').currentTime - 12) < 0.1")
        page.evaluate("() => { const v = document.getElementById('stimulus-media'); v.currentTime = 4.5; "
                      "v.dispatchEvent(new Event('timeupdate')); }")
        assert servers.wait_until(page, "document.getElementById('timecourse').dataset.cursor === '4.5'")

        page.set_viewport_size({"width": 375, "height": 800})
        page.select_option("#tc-by", "condition")
        state(page, "drawn")
        page.screenshot(path=str(servers.ARTIFACTS / "time-course-375.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{daphne_url}/stimuli/{empty.pk}/time-course/")
        state(page, "empty")
        assert page.locator("#tc-empty").is_visible() and not page.locator("#tc-chart").is_visible()
        assert "No recordings yet" in page.locator("#tc-empty").inner_text()
        page.screenshot(path=str(servers.ARTIFACTS / "time-course-empty.png"), full_page=True)

        page.goto(f"{daphne_url}/api/docs/")
        page.wait_for_selector("#swagger-ui .opblock-tag", timeout=30_000)
        assert any("stimuli" in t for t in page.locator("#swagger-ui .opblock-tag").all_inner_texts())
        assert problems == [], problems
    finally:
        browser.close()
