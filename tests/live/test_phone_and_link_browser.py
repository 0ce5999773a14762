"""In Chromium: the private link shown once after storing, the session it opens (chart with gaps,
exports, delete), and the live and session pages at a phone's 375 px without sideways scrolling."""

import pytest

from emotion.live.models import LiveSession
from tests import servers

from .test_browser import browser, camera_file, start_live  # noqa: F401 (fixtures)
from .test_private_link import stored

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 375, "height": 800}
# whether anything is painted on the live page's overlay (boxes and labels)
PAINTED = ("(() => { const c = ferLive.overlay, d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
           " for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })()")


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at {PHONE['width']} px"


def test_the_live_page_shows_the_private_link_once_and_it_opens_the_session(browser, daphne_url):  # noqa: F811
    servers.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport=PHONE, bypass_csp=True)
    start_live(page, daphne_url, store=True)
    page.wait_for_selector("#live-links:not([hidden]) input.live-link", timeout=60_000)
    page.wait_for_function("window.ferLive && ferLive.stats.results >= 15", timeout=60_000)
    assert page.text_content("#stat-face").endswith("%")
    link = page.input_value("#live-link-list input.live-link")
    assert link.startswith(daphne_url + "/live/s/") and "shown only once" in page.text_content("#live-links")
    no_sideways_scroll(page)
    # the link card goes below the video on a phone: the camera's picture stays on the first screen
    stage = page.locator(".live-stage").bounding_box()
    assert stage["y"] + stage["height"] / 2 <= PHONE["height"], stage
    page.screenshot(path=str(servers.ARTIFACTS / "live-page-375.png"), full_page=True)
    page.wait_for_function(PAINTED, timeout=60_000)
    page.click("#live-stop")
    page.wait_for_function("document.getElementById('live-summary').textContent.includes('Stored as session')",
                           timeout=15_000)
    assert page.evaluate(PAINTED) is False, "boxes left painted over the stopped camera"
    session = LiveSession.objects.get(pk=page.evaluate("ferLive.stats.session"))
    assert "a face in" in page.text_content("#live-summary")

    viewer = browser.new_page(viewport=PHONE, bypass_csp=True)       # the link alone, no account
    viewer.goto(link)
    viewer.wait_for_function("window.ferTimeline !== undefined", timeout=60_000)
    drawn = viewer.evaluate("ferTimeline.data.datasets[0].data.length")
    assert drawn == len(session.timeline)
    assert viewer.get_attribute("#timeline-chart", "data-gaps") == str(session.timeline_gaps)
    assert viewer.evaluate("ferTimeline.options.spanGaps") is False
    no_sideways_scroll(viewer)
    viewer.screenshot(path=str(servers.ARTIFACTS / "live-session-link-375.png"), full_page=True)
    with viewer.expect_download() as dl:
        viewer.click("#export-csv")
    assert dl.value.suggested_filename.startswith(f"live-session-{session.pk}-")
    viewer.on("dialog", lambda d: d.accept())
    viewer.click("button[value=delete]")
    viewer.wait_for_url(daphne_url + "/live/")
    assert not LiveSession.objects.filter(pk=session.pk).exists()
    assert viewer.goto(link).status == 404


def test_pages_at_desktop_and_phone_width(browser, daphne_url, django_user_model):  # noqa: F811
    from emotion.live.access import new_key

    key = new_key()
    s = stored(key=key)
    for name, viewport in (("desktop", {"width": 1300, "height": 900}), ("375", PHONE)):
        page = browser.new_page(viewport=viewport, bypass_csp=True)
        page.goto(f"{daphne_url}/live/s/{s.pk}/{key}/")
        page.wait_for_function("window.ferTimeline !== undefined", timeout=60_000)
        # the gap point breaks every line: a null between the points around it
        assert page.evaluate("ferTimeline.data.datasets.every(d => d.data[2].y === null && d.data[3].y !== null)")
        assert page.get_attribute("#timeline-chart", "data-gaps") == "1"
        page.screenshot(path=str(servers.ARTIFACTS / f"live-session-gaps-{name}.png"), full_page=True)
        if viewport is PHONE:
            no_sideways_scroll(page)
            page.goto(f"{daphne_url}/live/")
            no_sideways_scroll(page)
        page.close()
    django_user_model.objects.create_user("phone", password="pw-for-tests-1")
    page = browser.new_page(viewport=PHONE, bypass_csp=True)
    page.goto(daphne_url + "/accounts/login/?next=/account/data/")
    page.fill("input[name=username]", "phone")
    page.fill("input[name=password]", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/account/data/")
    no_sideways_scroll(page)
    page.screenshot(path=str(servers.ARTIFACTS / "your-data-375.png"), full_page=True)
