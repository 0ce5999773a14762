"""End to end: headless Chromium with the shared clip as its camera, a real daphne, the test database."""

import subprocess

import pytest

from emotion.live.models import LiveSession
from emotion.ml import EMOTIONS
from tests import servers
from tests.conftest import CLIP, need

pytestmark = pytest.mark.django_db(transaction=True)
# Pages here run with the Content-Security-Policy bypassed: Playwright's wait_for_function evaluates
# strings, which the policy forbids. tests/test_security.py visits every page with the policy on.
# seconds of the clip from where the face is big enough to be found in a 640 px frame
CLIP_START = 2.8


@pytest.fixture(scope="module")
def camera_file(tmp_path_factory):
    """The shared clip as a Y4M file, which Chromium's fake camera plays in a loop."""
    path = tmp_path_factory.mktemp("camera") / "clip.y4m"
    subprocess.run(["ffmpeg", "-v", "error", "-ss", str(CLIP_START), "-i", str(need(CLIP)), "-t", "6", "-r", "15",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.fixture
def browser(playwright_driver, camera_file):
    b = servers.launch_chromium(playwright_driver, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                                f"--use-file-for-fake-video-capture={camera_file}")
    yield b
    b.close()


def start_live(page, url, store: bool):
    page.goto(url + "/live/")
    if store:
        page.check("#live-store")
    page.select_option("#live-width", "640")
    page.click("#live-start")


def test_live_page_shows_emotions_stores_the_session_and_the_admin_charts_it(browser, daphne_url, django_user_model):
    page = browser.new_page(viewport={"width": 1300, "height": 950}, bypass_csp=True)
    start_live(page, daphne_url, store=True)
    page.wait_for_function("window.ferLive && ferLive.stats.results >= 20", timeout=60_000)
    # The chart holds data for every emotion (null only where no face was found).
    page.wait_for_function("ferLive.chart.data.datasets.every(d => d.data.filter(p => p.y !== null).length >= 5)",
                           timeout=30_000)
    datasets = page.evaluate("ferLive.chart.data.datasets.map(d => [d.label, d.data.length])")
    assert [label for label, _ in datasets] == list(EMOTIONS)
    # the clip has frames without a face ("no face"): read the label of one with a face, in one step
    shown = page.wait_for_function("() => { const t = document.getElementById('stat-dominant').textContent; "
                                   "return t !== 'no face' && t; }", timeout=30_000).json_value()
    assert shown.removesuffix(" ?") in EMOTIONS                                   # "?": an unreliable face
    stats = page.evaluate("({...ferLive.stats})")
    assert stats["session"] and stats["stored"] and stats["errors"] == 0
    assert 0 < stats["rtt"] < 2000
    assert int(page.text_content("#stat-results")) >= 20
    # the rate the visitor may pick is the server's, as its hello said (the template has none)
    from django.conf import settings
    assert float(page.get_attribute("#live-fps", "max")) == settings.FER_LIVE_MAX_FPS
    # every chart point says whether the followed face was reliable; the facts line gives the share
    assert page.evaluate("ferLive.chart.data.datasets.every(d => d.data.every(p => typeof p.ok === 'boolean'))")
    assert page.text_content("#stat-reliable").endswith("%")
    assert 0 <= stats["reliableFaces"] <= stats["withFace"] <= stats["results"]
    servers.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(servers.ARTIFACTS / "live-page.png"), full_page=True)

    page.click("#live-stop")
    page.wait_for_function("document.getElementById('live-summary').textContent.includes('Stored as session')",
                           timeout=15_000)
    s = LiveSession.objects.get(pk=stats["session"])
    assert s.ended_at is not None and s.user is None
    assert s.frames_analysed >= 20 and s.frames_with_faces >= 5
    assert s.frames_received == s.frames_analysed           # one in flight: the server never had to drop
    assert s.client_rtt_ms is not None and s.client_dropped is not None
    # a point with a face says whether it was reliable; a gap (no face seen) has no probabilities
    faced = [p for p in s.timeline if p["p"] is not None]
    assert len(faced) >= 2 and all(p["r"] in (0, 1) for p in faced)
    assert all(set(p) == {"t", "p"} for p in s.timeline if p["p"] is None)
    # shares count the time with a reliable face only: none at all when the face was never reliable
    assert sum(s.emotion_share.values()) == (pytest.approx(1, abs=1e-3) if s.emotion_share else 0)
    if any(p["r"] for p in faced):
        assert s.emotion_share

    django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-for-tests-1")
    page.goto(daphne_url + "/admin/login/?next=/admin/live/livesession/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-tests-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/live/livesession/")
    page.click(f"a[href='/admin/live/livesession/{s.pk}/change/']")
    page.wait_for_function("window.ferTimeline !== undefined", timeout=15_000)
    drawn = page.evaluate("ferTimeline.data.datasets.map(d => d.data.length)")
    assert drawn == [len(s.timeline)] * len(EMOTIONS)
    unreliable = sum(1 for p in faced if p["r"] == 0)
    assert page.get_attribute("#timeline-chart", "data-unreliable-points") == str(unreliable)
    page.screenshot(path=str(servers.ARTIFACTS / "live-admin.png"), full_page=True)


def test_nothing_is_stored_when_the_box_is_left_unticked(browser, daphne_url):
    page = browser.new_page(bypass_csp=True)
    start_live(page, daphne_url, store=False)
    page.wait_for_function("window.ferLive && ferLive.stats.results >= 5", timeout=60_000)
    assert page.evaluate("ferLive.stats.stored") is False
    page.click("#live-stop")
    page.wait_for_function("document.getElementById('live-summary').textContent.includes('Nothing was stored')",
                           timeout=15_000)
    assert LiveSession.objects.count() == 0


def test_the_page_reconnects_when_the_server_comes_back(browser, site_env):
    """A daphne of its own, stopped and started again on the same port under a running page."""
    port = servers.free_port()
    log = servers.ARTIFACTS / "daphne-reconnect.log"
    proc, url = servers.start_daphne(site_env, log, port=port)
    try:
        page = browser.new_page(bypass_csp=True)
        start_live(page, url, store=False)
        page.wait_for_function("window.ferLive && ferLive.stats.results >= 3", timeout=60_000)
        servers.stop(proc)
        page.wait_for_function("document.getElementById('live-status').textContent.includes('reconnecting')",
                               timeout=15_000)
        before = page.evaluate("ferLive.stats.results")
        proc, _ = servers.start_daphne(site_env, log.with_name("daphne-reconnect-2.log"), port=port)
        page.wait_for_function(f"ferLive.connected && ferLive.stats.results > {before + 3}", timeout=60_000)
        assert page.evaluate("ferLive.running") is True
    finally:
        servers.stop(proc)


def test_a_refused_camera_is_explained(playwright_driver, daphne_url):
    # No fake UI: the permission prompt that nobody answers in headless mode counts as a refusal.
    b = servers.launch_chromium(playwright_driver, "--use-fake-device-for-media-stream")
    try:
        page = b.new_page(bypass_csp=True)
        page.goto(daphne_url + "/live/")
        page.click("#live-start")
        page.wait_for_function("document.getElementById('live-status').classList.contains('bad')", timeout=15_000)
        assert "refused" in page.text_content("#live-status")
        assert page.is_enabled("#live-start") and page.is_disabled("#live-stop")
    finally:
        b.close()
