"""Headless Chromium against daphne, with a real Celery worker: a researcher signs in, uploads a photo
and the shared clip through the page, watches them finish and studies the timeline."""

import pytest
from django.contrib.auth.models import User

from tests import servers
from tests.conftest import CLIP, MEDIA, need

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_upload_watch_and_read_the_timeline(daphne_url, celery_worker, playwright_driver, bad_media):
    User.objects.create_user("carol", password="a-long-password-3")
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
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
        assert len(points) == 7 and min(points) > 20
        assert page.locator("#face-select option").count() >= 1
        # clicking the chart shows that frame with its boxes
        page.locator("#emotion-chart").click(position={"x": 300, "y": 120})
        page.wait_for_function("document.getElementById('frame-image').complete && "
                               "document.getElementById('frame-image').naturalWidth == 640")
        assert page.locator("#share-table tr").count() == 8
        servers.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(servers.ARTIFACTS / "research-timeline.png"), full_page=True)

        page.goto(f"{daphne_url}/analyses/")
        page.click("text=two_people.jpg")
        page.wait_for_function("window.ferTimeline && window.ferTimeline.ready", timeout=30_000)
        assert page.locator("#share-table tr").count() == 3          # header + two faces
        assert page.evaluate("document.querySelector('#results img').naturalWidth") == 1126
        assert errors == []
    finally:
        browser.close()
