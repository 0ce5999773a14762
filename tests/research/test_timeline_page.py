"""The timeline page a researcher studies, in headless Chromium against daphne: the video player and
the charts on one clock, the annotated video playing in the browser, the baseline-corrected view,
a re-run that keeps the old results on screen, readable labels and phone widths. The analyses are run
by the real job function in this process (the worker's own path is tested in test_browser_e2e.py)."""

import cv2
import numpy as np
import pytest
from django.contrib.auth.models import User

from emotion.research.analyses import services
from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis, FrameResult, Study
from tests import servers
from tests.conftest import CLIP, MEDIA, need
from tests.research.conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-password-7"
# Pages run with the Content-Security-Policy bypassed, as Playwright's wait_for_function evaluates
# strings; tests/test_security.py visits every page with the policy on.


def analysed(owner, path, **kw) -> Analysis:
    a = services.create_analysis(owner, upload(path), **kw)
    assert run_analysis(a.pk, a.run_id).startswith("done")
    return Analysis.objects.get(pk=a.pk)


def sign_in(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/analyses/")


def open_timeline(page, url, a):
    page.goto(f"{url}/analyses/{a.pk}/")
    page.wait_for_function("window.ferTimeline && window.ferTimeline.ready", timeout=30_000)


def video_frame(page, originals) -> int:
    """Which frame of the clip the <video> shows now, by its pixels against the decoded frames."""
    pixels = page.evaluate("""() => {
        const v = document.getElementById("video"), c = document.createElement("canvas");
        c.width = 160; c.height = 90;
        const ctx = c.getContext("2d"); ctx.drawImage(v, 0, 0, 160, 90);
        return Array.from(ctx.getImageData(0, 0, 160, 90).data); }""")
    img = np.array(pixels, float).reshape(90, 160, 4)[:, :, 2::-1]
    return int(np.argmin([np.abs(img - o).mean() for o in originals]))


def clip_frames() -> list:
    cap, frames = cv2.VideoCapture(str(need(CLIP))), []
    while (got := cap.read())[0]:
        frames.append(cv2.resize(got[1], (160, 90)).astype(float))
    return frames


def seeked(page):
    page.wait_for_function("""() => { const v = document.getElementById("video");
        return !v.seeking && v.readyState >= 2; }""", timeout=15_000)
    page.wait_for_timeout(150)


@pytest.fixture
def study_clip(daphne_url):
    """A study's clip and participant P1's other analysis (not yet marked the baseline), analysed
    before the browser's event loop starts (the job pushes progress with async_to_sync)."""
    user = User.objects.create_user("tess", password=PASSWORD)
    study = Study.objects.create(owner=user, name="pilot")
    return (analysed(user, need(CLIP), study=study, participant="P1"),
            analysed(user, need(MEDIA / "two_people.jpg"), study=study, participant="P1"))


@pytest.fixture
def rerun_clip(daphne_url):
    a = analysed(User.objects.create_user("rita", password=PASSWORD), need(CLIP), frame_step=5)
    # Queued where no worker listens (the session's worker, if another test started it, would finish
    # the re-run at once): the page must show the old results while the new run waits.
    from fersite.celery import app

    queue, app.conf.task_default_queue = app.conf.task_default_queue, f"{servers.TEST_QUEUE}-nobody"
    try:
        services.rerun(a)
    finally:
        app.conf.task_default_queue = queue
    yield a
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).delete(f"{servers.TEST_QUEUE}-nobody")


@pytest.fixture
def image_analysis(daphne_url):
    return analysed(User.objects.create_user("nina", password=PASSWORD), need(MEDIA / "two_people.jpg"))


def test_player_charts_and_frame_share_one_clock(study_clip, daphne_url, playwright_driver):
    a, base = study_clip
    fps = a.fps
    browser = servers.launch_chromium(playwright_driver, "--autoplay-policy=no-user-gesture-required")
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, daphne_url, "tess")
        open_timeline(page, daphne_url, a)
        page.wait_for_function("document.getElementById('video').readyState >= 1", timeout=15_000)
        offset = float(page.get_attribute("#player", "data-offset"))
        assert 0.8 < offset < 0.9            # the clip's sound starts 0.84 s before its first picture

        # the lanes' time axis is the chart's, to the pixel
        areas = page.evaluate("""() => [ferTimeline.chart.chartArea, ferTimeline.lanes.chartArea].map(
            a => [a.left, a.right])""")
        assert abs(areas[0][0] - areas[1][0]) < 0.5 and abs(areas[0][1] - areas[1][1]) < 0.5, areas
        same_x = page.evaluate("""() => [2, 5.5, 9].map(t => ferTimeline.chart.scales.x.getPixelForValue(t) -
            ferTimeline.lanes.scales.x.getPixelForValue(t))""")
        assert max(abs(d) for d in same_x) < 0.5, same_x

        # a click at 5.5 s: the frame of 5.5 s, in the viewer and in the video (seeking needs Range)
        originals = clip_frames()
        px = page.evaluate("ferTimeline.chart.scales.x.getPixelForValue(5.5)")
        page.locator("#emotion-chart").click(position={"x": px, "y": 100})
        expected = round(5.5 * fps)
        page.wait_for_function(f"document.getElementById('frame-title').dataset.frame == '{expected}'")
        assert f"Frame {expected} · {expected / fps:.2f} s" in page.text_content("#frame-title")
        page.wait_for_function("document.getElementById('frame-image').complete && "
                               "document.getElementById('frame-image').naturalWidth == 640")
        seeked(page)
        now = page.evaluate("document.getElementById('video').currentTime")
        assert abs(now - offset - 5.5) < 1 / fps, now
        assert abs(video_frame(page, originals) - expected) <= 1
        assert abs(float(page.get_attribute("#emotion-chart", "data-cursor")) - 5.5) < 1 / fps

        # playing moves the cursor with the video
        page.evaluate("document.getElementById('video').muted = true; document.getElementById('video').play()")
        page.wait_for_function("document.getElementById('video').currentTime > 6.5 + Number("
                               "document.getElementById('player').dataset.offset)", timeout=15_000)
        t, cursor = page.evaluate("""() => { const v = document.getElementById("video"); v.pause();
            return [v.currentTime - Number(document.getElementById("player").dataset.offset),
                    Number(document.getElementById("emotion-chart").dataset.cursor)]; }""")
        assert t > 6.4 and abs(cursor - t) < 0.3, (t, cursor)
        # the cursor is drawn: a dark line at its x on the chart
        line = page.evaluate("""() => { const c = ferTimeline.chart, x = Math.round(c.scales.x.getPixelForValue(
              Number(document.getElementById("emotion-chart").dataset.cursor)) * devicePixelRatio);
            const y = Math.round((c.chartArea.top + 20) * devicePixelRatio);
            return Array.from(c.ctx.getImageData(x - 1, y, 3, 1).data); }""")
        pixels = [line[i:i + 4] for i in (0, 4, 8)]
        assert any(max(p[:3]) < 90 and p[3] > 200 for p in pixels), pixels

        # the annotated copy plays in the browser (H.264 with sound), at the same moment
        page.check("#show-annotated")
        page.wait_for_function("document.getElementById('video').src.includes('/annotated')")
        page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=15_000)
        state = page.evaluate("""async () => { const v = document.getElementById("video"); v.muted = true;
            const t0 = v.currentTime; await v.play(); await new Promise(r => setTimeout(r, 800));
            v.pause(); return {t0, t1: v.currentTime, w: v.videoWidth, h: v.videoHeight}; }""")
        assert state["w"] == 640 and state["h"] == 360 and abs(state["t0"] - t) < 0.3 + offset, state
        assert state["t1"] > state["t0"] + 0.3, state

        # no baseline yet: no corrected view; then the participant's baseline clip is analysed
        assert page.locator("#baseline-toggle").is_hidden()
        Analysis.objects.filter(pk=base.pk).update(is_baseline=True)
        open_timeline(page, daphne_url, a)
        page.wait_for_selector("#baseline-toggle", state="visible")
        before = page.evaluate("ferTimeline.chart.data.datasets.map(d => d.data[10].y)")
        page.check("#baseline-corrected")
        means = page.evaluate("ferTimeline.baseline")
        after = page.evaluate("ferTimeline.chart.data.datasets.map(d => d.data[10].y)")
        emotions = page.evaluate("FER_EMOTIONS")
        assert all(abs(b - means[e] - c) < 1e-9 for b, e, c in zip(before, emotions, after))
        assert page.evaluate("ferTimeline.chart.options.scales.y.title.text").startswith("baseline-corrected")
        assert page.evaluate("ferTimeline.chart.options.plugins.legend.title.display") is True
        page.mouse.move(0, 0)
        servers.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(servers.ARTIFACTS / "timeline-player.png"), full_page=True)

        # a phone: nothing runs off the side, the frame and the video use the width there is
        page.set_viewport_size({"width": 375, "height": 800})
        page.wait_for_function("window.ferTimeline.chart.width < 375")
        page.screenshot(path=str(servers.ARTIFACTS / "timeline-player-375.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        widths = page.evaluate("""() => ["frame-image", "video"].map(
            id => document.getElementById(id).getBoundingClientRect().width)""")
        assert min(widths) > 300, widths
        areas = page.evaluate("""() => [ferTimeline.chart.chartArea, ferTimeline.lanes.chartArea].map(
            a => [a.left, a.right])""")
        assert abs(areas[0][0] - areas[1][0]) < 0.5 and abs(areas[0][1] - areas[1][1]) < 0.5, areas
        assert errors == []
    finally:
        browser.close()


def test_rerun_keeps_the_old_results_on_screen(rerun_clip, daphne_url, playwright_driver):
    a = rerun_clip
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    try:
        sign_in(page, daphne_url, "rita")
        open_timeline(page, daphne_url, a)
        assert page.text_content("#status").startswith("re-running")
        assert page.locator("#rerun-note").is_visible()
        assert int(page.get_attribute("#emotion-chart", "data-points")) > 0
        page.wait_for_function("document.getElementById('frame-image').complete && "
                               "document.getElementById('frame-image').naturalWidth > 0")
        # no image on the page is broken or waiting without a picture
        broken = page.evaluate("""() => Array.from(document.images).filter(
            i => !i.hidden && !(i.complete && i.naturalWidth > 0)).map(i => i.id || i.src)""")
        assert broken == []
        # a poll later the state is still the old results' page, said to be re-running
        page.wait_for_timeout(2500)
        assert page.text_content("#status").startswith("re-running")
        assert int(page.get_attribute("#emotion-chart", "data-points")) > 0
    finally:
        browser.close()


def luminance(rgb):
    def lin(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(float(v)) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_image_page_labels_are_readable_and_phones_fit(image_analysis, daphne_url, playwright_driver):
    a = image_analysis
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    try:
        sign_in(page, daphne_url, "nina")
        open_timeline(page, daphne_url, a)
        # the dominant emotion is a label on its colour, which reads at 4.5:1 at least
        chips = page.evaluate("""() => Array.from(document.querySelectorAll("#share-table .emo")).map(s => {
            const c = getComputedStyle(s); return [s.textContent, c.color, c.backgroundColor]; })""")
        # one chip per reliable face (an unreliable one is drawn grey, without its emotion's colour)
        reliable = FrameResult.objects.filter(analysis=a, reliable=True).count()
        assert len(chips) == reliable >= 1, chips
        rgb = lambda css: [int(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3]]  # noqa: E731
        for name, fg, bg in chips:
            assert contrast(rgb(fg), rgb(bg)) >= 4.5, (name, fg, bg)
        # and so does every emotion's, "neutral" (grey) and "happy" (yellow) included, with the page's choice
        for name, hex_ in page.evaluate("FER_EMOTION_COLORS").items():
            fg = {"black": [0, 0, 0], "white": [255, 255, 255]}[page.evaluate(f"ferTimeline.textOn('{hex_}')")]
            bg = [int(hex_[i:i + 2], 16) for i in (1, 3, 5)]
            assert contrast(fg, bg) >= 4.5, (name, hex_, fg)

        page.set_viewport_size({"width": 375, "height": 800})
        page.wait_for_timeout(300)
        page.screenshot(path=str(servers.ARTIFACTS / "timeline-image-375.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # the wide table scrolls inside its own box
        box = page.evaluate("""() => { const t = document.getElementById("share-table"), w = t.parentElement;
            return {table: t.scrollWidth, box: w.clientWidth, right: w.getBoundingClientRect().right,
                    overflow: getComputedStyle(w).overflowX}; }""")
        assert box["table"] > box["box"] and box["right"] <= 375 and box["overflow"] == "auto", box
        assert page.evaluate("document.querySelector('#results img').getBoundingClientRect().right") <= 375

        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"{daphne_url}/")
            page.screenshot(path=str(servers.ARTIFACTS / f"home-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        browser.close()
