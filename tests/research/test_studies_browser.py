"""Chromium against daphne, with the Content-Security-Policy on: the API's docs page runs, and the
analyses list and the study pages fit a phone's width (375 px) with nothing running off the side."""

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from emotion.research.analyses import services
from emotion.research.models import Analysis
from emotion.research.studies import services as study_services
from tests import servers
from tests.conftest import MEDIA, need
from tests.research.study_data import join

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-password-7"


def watch(page) -> list:
    """Console errors (a blocked script or image among them), uncaught exceptions and failed loads."""
    problems = []
    # a failed load is reported by its response below, with its URL (/favicon.ico included: it exists)
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and problems.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    return problems


def test_the_api_docs_page_works_under_the_policy(daphne_url, playwright_driver):
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = watch(page)
    try:
        res = page.goto(f"{daphne_url}/api/docs/")
        assert "script-src 'self'" in res.headers["content-security-policy"]
        page.wait_for_selector("#swagger-ui .opblock-tag", timeout=30_000)      # drawn from /api/schema/
        tags = page.locator("#swagger-ui .opblock-tag").all_inner_texts()
        assert any("studies" in t for t in tags) and any("analyses" in t for t in tags)
        servers.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(servers.ARTIFACTS / "api-docs.png"))
        assert problems == [], problems
        # the index at /api/ points there
        index = page.goto(f"{daphne_url}/api/", wait_until="load")
        assert index.status == 200
    finally:
        browser.close()


def test_lists_and_study_pages_fit_a_phone(daphne_url, playwright_driver):
    ada = User.objects.create_user("ada", password=PASSWORD)
    study = study_services.create_study(ada, "A study with a rather long name, to see it wrap on a phone",
                                  "Participants talk at rest, then under stress.\nTwo sessions each.")
    join(study, User.objects.create_user("bob").username, "editor")
    name = default_storage.save("uploads/browser.jpg", ContentFile(need(MEDIA / "obama.jpg").read_bytes()))
    for i, (title, participant, condition) in enumerate([("interview_recording_2024_session_one_final_cut.mp4", "P01", "rest"),
                                                         ("stress task", "P01", "stress"), ("", "P02", "rest")]):
        a = Analysis.objects.create(owner=ada, kind="video", original_name=f"clip{i}.mp4", size_bytes=1,
                                    media_format="mp4", file=name, title=title, status="done", duration=26.6,
                                    face_count=2, progress=1.0, study=study)
        services.update_analysis(a, participant=participant, condition=condition, tags=["pilot"],
                                 is_baseline=(i == 0))
    Analysis.objects.create(owner=ada, kind="image", original_name="photo.jpg", size_bytes=1, media_format="jpeg",
                            file=name, status="queued", notice="")

    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = watch(page)
    servers.ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.goto(f"{daphne_url}/accounts/login/?next=/analyses/")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{daphne_url}/analyses/")
        for path, shot in (("/analyses/", "analyses-list"), ("/analyses/studies/", "studies-list"),
                           (f"/analyses/studies/{study.pk}/", "study-page"),
                           (f"/analyses/{Analysis.objects.filter(study=study).first().pk}/edit", "analysis-edit")):
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(daphne_url + path)
            page.wait_for_load_state("load")
            page.screenshot(path=str(servers.ARTIFACTS / f"{shot}.png"), full_page=True)
            page.set_viewport_size({"width": 375, "height": 800})
            page.wait_for_timeout(200)
            page.screenshot(path=str(servers.ARTIFACTS / f"{shot}-375.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
        # the study page's upload form and the rows are there, and the baseline is marked
        page.goto(f"{daphne_url}/analyses/studies/{study.pk}/")
        assert page.locator("#upload-form input[name=participant]").count() == 1
        assert page.locator("#analyses tbody tr").count() == 3
        assert page.locator("#analyses .baseline").count() == 1
        assert problems == [], problems
    finally:
        browser.close()
