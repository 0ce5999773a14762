"""The stimulus page in headless Chromium against daphne, under the site's Content-Security-Policy: the
stimulus video plays, a click on a marker's span seeks it to the marker's start (byte ranges), the
playhead follows; the page and the study page's Stimuli card fit 1280 and 375 px (screenshots in
test-artifacts/)."""

import pytest
from django.contrib.auth.models import User

from emotion.research.models import Study
from emotion.stimuli.library import markers, services
from tests import servers
from tests.conftest import CLIP, MEDIA, need
from tests.research.conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-password-5"


@pytest.fixture
def stimulus(daphne_url):
    owner = User.objects.create_user("stella", password=PASSWORD)
    study = Study.objects.create(owner=owner, name="Stimulus pilot")
    s = services.create_stimulus(owner, study, upload(need(CLIP)), "Hamilton, short clip", "You will watch a clip.")
    markers.replace(s, [{"name": "opening", "start": 0, "end": 3}, {"name": "close-up", "start": 2.5, "end": 4.5},
                        {"name": "chorus", "start": 5, "end": 8}, {"name": "cut", "start": 8.6, "end": 8.6}])
    services.create_stimulus(owner, study, upload(need(MEDIA / "two_people.jpg")), "Two people", image_seconds=6)
    return s


def test_the_stimulus_plays_and_a_marker_seeks_it(stimulus, daphne_url, playwright_driver, tmp_path):
    servers.ARTIFACTS.mkdir(exist_ok=True)
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    refused, errors = [], []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        servers.sign_in_at(page, daphne_url, f"/stimuli/{stimulus.pk}/", "stella", PASSWORD)
        page.wait_for_selector("#stimulus-media")
        servers.wait_until(page, "window.ferStimulus && window.ferStimulus.ready && "
                                 "document.getElementById('stimulus-media').readyState >= 1")
        data = page.evaluate("JSON.parse(document.getElementById('stimulus-data').textContent)")
        assert data["id"] == stimulus.pk and data["kind"] == "video" and data["duration"] == stimulus.duration
        assert [m["name"] for m in data["markers"]] == ["opening", "close-up", "chorus", "cut"]
        offset = data["offset"]
        assert 0.8 < offset < 0.9               # the clip's sound starts before its first picture

        # overlapping markers sit on lanes of their own, each span where its time is on the axis
        boxes = {b["name"]: b for b in page.evaluate("""() => Array.from(document.querySelectorAll('.marker-span'))
            .map(s => { const r = s.getBoundingClientRect(); return {name: s.textContent, x: r.left, y: r.top, w: r.width}; })""")}
        track = page.evaluate("(() => { const r = document.getElementById('marker-track').getBoundingClientRect(); "
                              "return [r.left, r.width]; })()")
        assert boxes["opening"]["y"] != boxes["close-up"]["y"] and boxes["opening"]["y"] == boxes["chorus"]["y"]
        assert abs(boxes["chorus"]["x"] - (track[0] + track[1] * 5 / stimulus.duration)) < 3

        page.evaluate("document.getElementById('stimulus-media').muted = true")
        page.click(".marker-span:has-text('chorus')")
        now = servers.wait_until(page, """(() => { const v = document.getElementById('stimulus-media');
            return !v.seeking && v.readyState >= 2 && v.currentTime > 0 ? v.currentTime : 0; })()""", timeout=30)
        assert abs(now - offset - 5) < 0.5, now        # at the marker's start (and playing on from there)
        servers.wait_until(page, "document.getElementById('stimulus-media').currentTime > "
                                 f"{offset + 5.3}", timeout=30)                               # it plays
        page.evaluate("document.getElementById('stimulus-media').pause()")
        state = page.evaluate("""(() => { const v = document.getElementById('stimulus-media'), h = document.getElementById('playhead');
            return {t: v.currentTime, head: Number(h.dataset.time), hidden: h.hidden,
                    current: Array.from(document.querySelectorAll('.marker-span.current')).map(s => s.textContent)}; })()""")
        assert not state["hidden"] and abs(state["head"] - (state["t"] - offset)) < 0.3, state
        assert state["current"] == ["chorus"], state

        # a refused CSV: the page comes back at the markers card, the bad lines in view there
        bad = tmp_path / "markers.csv"
        bad.write_text("name,start,end\nintro,0,2\nlate,5,30\nback,4,3\n")
        page.set_input_files("#marker-import input[type=file]", str(bad))
        page.click("#marker-import button")
        page.wait_for_selector("#marker-file-errors")
        seen = page.evaluate("""(() => { const r = document.getElementById('marker-file-errors').getBoundingClientRect();
            return r.top >= 0 && r.bottom <= innerHeight; })()""")
        assert seen, "the refusal is out of view"
        assert "line 3: The end (30 s) is after the stimulus ends" in page.inner_text("#marker-file-errors")
        assert "line 4: The end (3 s) is before the start (4 s)." in page.inner_text("#marker-file-errors")
        page.screenshot(path=str(servers.ARTIFACTS / "stimulus-markers-refused.png"))
        page.goto(f"{daphne_url}/stimuli/{stimulus.pk}/")
        page.wait_for_selector("#marker-track")

        page.mouse.move(0, 0)
        page.screenshot(path=str(servers.ARTIFACTS / "stimulus-page.png"), full_page=True)
        page.set_viewport_size({"width": 375, "height": 800})
        page.screenshot(path=str(servers.ARTIFACTS / "stimulus-page-375.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.evaluate("document.getElementById('stimulus-media').getBoundingClientRect().width") > 300

        image = stimulus.study.stimuli.get(kind="image")
        page.goto(f"{daphne_url}/stimuli/{image.pk}/")
        servers.wait_until(page, "document.getElementById('stimulus-media').complete && "
                                 "document.getElementById('stimulus-media').naturalWidth > 0")
        assert "see this image for 6 s" in page.inner_text("#image-duration")
        page.screenshot(path=str(servers.ARTIFACTS / "stimulus-image-375.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        page.goto(f"{daphne_url}/analyses/studies/{stimulus.study_id}/#stimuli")
        page.wait_for_selector("#stimulus-list")
        assert page.locator("#stimulus-list tbody tr").count() == 2
        page.locator("#stimuli").screenshot(path=str(servers.ARTIFACTS / "study-stimuli-375.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator("#stimuli").screenshot(path=str(servers.ARTIFACTS / "study-stimuli.png"))
        page.goto(f"{daphne_url}/stimuli/{image.pk}/")
        page.screenshot(path=str(servers.ARTIFACTS / "stimulus-image.png"), full_page=True)
        assert refused == [] and errors == []
    finally:
        browser.close()
