"""Headless Chromium against daphne, with a real Celery worker: a researcher signs in, uploads a photo
and the shared clip through the page, watches them finish and studies the timeline."""

import pytest
from django.contrib.auth.models import User

from tests import servers
from tests.conftest import CLIP, MEDIA, need

pytestmark = pytest.mark.django_db(transaction=True)
# Pages here run with the Content-Security-Policy bypassed: Playwright's wait_for_function evaluates
# strings, which the policy forbids. tests/test_security.py visits every page with the policy on.


def test_sign_in_upload_watch_and_read_the_timeline(daphne_url, celery_worker, playwright_driver, bad_media):
    User.objects.create_user("carol", password="a-long-password-3")
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{daphne_url}/analyses/")
        assert "/accounts/login/" in page.url
        page.fill("input[name=username]", "carol")
        page.fill("input[name=password]", "a-long-password-3")
        page.click("button[type=submit]")
        page.wait_for_url(f"{daphne_url}/analyses/")

        page.set_input_files("#files", [str(need(MEDIA / "two_people.jpg")), str(need(CLIP)),
                                        str(bad_media["text_as_mp4"])])
        page.click("#upload-button")
        page.wait_for_selector("text=2 files queued for analysis")
        # the bad file is named, with the reason, and nothing was made of it
        assert page.locator(".messages .error", has_text="notes.mp4: This is not an image").count() == 1
        rows = page.locator("#analyses tbody tr")
        assert rows.count() == 2
        # the list follows the jobs without a reload
        page.wait_for_function("document.querySelectorAll('#analyses tr[data-finished=\"1\"]').length == 2",
                               timeout=120_000)
        assert page.locator("#analyses .status-done").count() == 2

        page.click("text=short_hamilton_clip.mp4")
        page.wait_for_function("window.ferTimeline && window.ferTimeline.ready", timeout=30_000)
        points = page.evaluate("window.ferTimeline.chart.data.datasets.map(d => d.data.length)")
        assert points == [int(page.get_attribute("#emotion-chart", "data-points"))] * 7 and points[0] > 0
        assert page.locator("#face-select option").count() >= 1
        # clicking the chart shows that frame with its boxes
        page.locator("#emotion-chart").click(position={"x": 300, "y": 120})
        page.wait_for_function("document.getElementById('frame-image').complete && "
                               "document.getElementById('frame-image').naturalWidth == 640")
        assert page.locator("#share-table tr").count() == 8
        unreliable_results_are_greyed(page)
        page.mouse.move(0, 0)                    # no tooltip over the chart in the pictures
        servers.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(servers.ARTIFACTS / "research-timeline.png"), full_page=True)
        # a phone's width: the page reflows, the charts redraw to it, nothing runs off the side
        page.set_viewport_size({"width": 375, "height": 800})
        page.wait_for_function("window.ferTimeline.chart.width < 375")
        page.screenshot(path=str(servers.ARTIFACTS / "research-timeline-375.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.set_viewport_size({"width": 1280, "height": 1000})

        page.goto(f"{daphne_url}/analyses/")
        page.click("text=two_people.jpg")
        page.wait_for_function("window.ferTimeline && window.ferTimeline.ready", timeout=30_000)
        assert page.locator("#share-table tr").count() == 3          # header + two faces
        assert page.evaluate("document.querySelector('#results img').naturalWidth") == 1126
        assert errors == []
    finally:
        browser.close()


def unreliable_results_are_greyed(page):
    """The clip has unreliable results (boxes only the tracker held): the chart, the dominant band and
    the share of time show them greyed and left out, for the face that has the most of them."""
    counts = {}                              # face -> (unreliable results, results)
    for value in page.eval_on_selector_all("#face-select option", "os => os.map(o => o.value)"):
        page.select_option("#face-select", value)
        counts[value] = (int(page.get_attribute("#emotion-chart", "data-unreliable-points")),
                         int(page.get_attribute("#emotion-chart", "data-points")))
    assert max(total for _, total in counts.values()) > 20, counts
    # the face with the most unreliable results among those that have reliable ones too
    mixed = {face: c for face, c in counts.items() if 0 < c[0] < c[1]}
    assert mixed, f"no face of the clip has both reliable and unreliable results: {counts}"
    face = max(mixed, key=lambda f: mixed[f][0])
    page.select_option("#face-select", face)
    n, total = counts[face]
    assert page.text_content("#share-note").startswith(f"{n} of {total} frames left out as unreliable")
    assert page.get_attribute("#share-table", "data-left-out") == str(n)
    grey = page.evaluate("FER_UNRELIABLE_COLOR")
    # the lines: every emotion's line is grey and dashed over the unreliable stretches, coloured elsewhere
    styles = page.evaluate("""() => ferTimeline.chart.data.datasets.map((d, i) =>
        ferTimeline.chart.getDatasetMeta(i).dataset.segments.map(
          s => [s.style.borderColor, (s.style.borderDash || []).length]))""")
    for i, segments in enumerate(styles):
        assert any(c == grey and dash for c, dash in segments), f"dataset {i} has no grey segment"
        assert any(c != grey and not dash for c, dash in segments), f"dataset {i} is grey throughout"
    # the pixels: the dominant band is grey on an unreliable stretch, coloured on a reliable one
    probe = page.evaluate("""() => {
        const c = ferTimeline.chart, pts = c.data.datasets[0].data, x = (t) => c.scales.x.getPixelForValue(t);
        const band = document.getElementById("dominant-band").getContext("2d");
        const at = (px) => Array.from(band.getImageData(Math.round(px), 9, 1, 1).data.slice(0, 3));
        // a point whose next one is 3 px or more further on: the first whole pixel after it is its own colour
        const find = (ok) => {
          for (let i = 0; i + 1 < pts.length; i++)
            if (pts[i].ok === ok && x(pts[i + 1].x) - x(pts[i].x) >= 3) return i;
          return -1;
        };
        const u = find(false), r = find(true), inside = (i) => Math.floor(x(pts[i].x)) + 1;
        return {unreliable: u < 0 ? null : at(inside(u)), reliable: r < 0 ? null : at(inside(r)),
                px: u < 0 ? null : x(pts[u].x)};
    }""")
    rgb = [int(grey[i:i + 2], 16) for i in (1, 3, 5)]
    assert probe["unreliable"] == rgb and probe["reliable"] not in (None, rgb), probe
    # clicking an unreliable stretch shows that frame, its title marked unreliable
    page.locator("#emotion-chart").click(position={"x": probe["px"], "y": 150})
    page.wait_for_function("document.getElementById('frame-title').textContent.includes('unreliable')")
    page.wait_for_function("document.getElementById('frame-image').complete")
    assert "rule:" in page.text_content("#unreliable-legend")
