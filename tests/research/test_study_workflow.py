"""A researcher's whole study in Chromium, against daphne and a real Celery worker, with the
Content-Security-Policy on: create a study, add a colleague, upload two videos as two participants in
two conditions, watch them finish, compare the conditions, check one analysis against hand labels, and
see what the colleague (a viewer) sees. Screenshots of each step: test-artifacts/study-workflow-*.png."""

import shutil
import subprocess
from collections import Counter

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from emotion.research.models import Analysis, FrameResult
from tests import servers
from tests.conftest import CLIP, need
from tests.research.test_studies_browser import watch

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-password-5"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def short_clip(tmp_path):
    """The shared clip's first 4 s, as a second participant's video (re-encoded: a cut on a keyframe
    would keep frames before 0)."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: apt-get install -y ffmpeg (see README)")
    path = tmp_path / "p02_task.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(need(CLIP)), "-t", "4", "-c:v", "libx264",
                    "-preset", "veryfast", "-c:a", "aac", str(path)], check=True)
    return path


def shot(page, name: str) -> None:
    servers.ARTIFACTS.mkdir(exist_ok=True)
    page.mouse.move(0, 0)                        # no tooltip or hover state in the pictures
    page.screenshot(path=str(servers.ARTIFACTS / f"study-workflow-{name}.png"), full_page=True)


def sign_in(browser, url: str, username: str):
    page = browser.new_page(viewport=DESKTOP)
    problems = watch(page)
    page.goto(f"{url}/accounts/login/?next=/analyses/studies/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/analyses/studies/")
    return page, problems


def upload(page, path, participant: str, condition: str) -> None:
    page.set_input_files("#files", str(path))
    page.fill("#upload-form input[name=participant]", participant)
    page.fill("#upload-form input[name=condition]", condition)
    page.click("#upload-button")
    # the message says what the file was filed under, since the form is empty again
    expect(page.locator(".messages .success")).to_have_text(
        f"1 file queued for analysis: {path.name}, participant {participant}, condition {condition}.",
        timeout=60_000)


def hand_labels(analysis: Analysis) -> str:
    """What a coder watching the clip might write: one label a second, the one our results show most
    in that second on the largest face (so the two mostly, not entirely, agree)."""
    by_second = {}
    largest = {}
    for r in FrameResult.objects.filter(analysis=analysis):
        if r.frame not in largest or r.w * r.h > largest[r.frame].w * largest[r.frame].h:
            largest[r.frame] = r
    for r in largest.values():
        by_second.setdefault(int(r.time), Counter())[r.dominant] += 1
    rows = ["start,end,label"]
    for second in range(int(analysis.duration) + 1):
        label = by_second[second].most_common(1)[0][0] if second in by_second else "neutral"
        rows.append(f"{second},{second + 1},{label}")
    return "\n".join(rows) + "\n"


def test_a_study_from_creation_to_hand_labels(daphne_url, celery_worker, playwright_driver, short_clip, tmp_path):
    User.objects.create_user("ada", password=PASSWORD)
    User.objects.create_user("bob", password=PASSWORD)
    browser = servers.launch_chromium(playwright_driver)
    try:
        page, problems = sign_in(browser, daphne_url, "ada")
        # 1. a new study from the Studies page
        shot(page, "1-studies")
        page.fill("#study-form input[name=name]", "Stress interview")
        page.fill("#study-form textarea[name=description]", "Participants talk at rest, then under a task.")
        page.click("#study-form button[type=submit]")
        page.wait_for_url(f"{daphne_url}/analyses/studies/*/")
        study_url = page.url
        assert page.locator("h1").inner_text() == "Stress interview"
        assert page.locator("#your-role").inner_text() == "owner"

        # 2. a colleague invited, as a viewer: listed once they accept (step 6)
        page.fill("#member-form input[name=username]", "bob")
        page.select_option("#member-form select[name=role]", "viewer")
        page.click("#member-form button[type=submit]")
        expect(page.locator(".messages .success")).to_have_text(
            "If an account named “bob” exists, it was invited as a viewer; it becomes a member when it accepts.")
        expect(page.locator("#members tbody tr", has_text="bob")).to_have_count(0)
        # no analysis has finished: no empty axes, a line that says when the charts come
        expect(page.locator("#stats-note")).to_contain_text("The charts appear when an analysis")
        assert page.locator("#stats-charts").is_hidden()
        shot(page, "2-member")

        # 3. two videos, two participants, two conditions, through the study page's form
        upload(page, need(CLIP), "P01", "rest")
        assert page.url == study_url, "an upload into a study comes back to the study"
        upload(page, short_clip, "P02", "task")
        assert page.url == study_url
        rows = page.locator("#analyses tbody tr")
        expect(rows).to_have_count(2)
        shot(page, "3-uploaded")
        # the rows follow the jobs without a reload, and the comparison fills in when they finish
        expect(page.locator('#analyses tr[data-finished="1"]')).to_have_count(2, timeout=240_000)
        expect(page.locator("#analyses .status-done")).to_have_count(2)
        assert sorted(Analysis.objects.values_list("participant__code", "condition__name")) == \
            [("P01", "rest"), ("P02", "task")]

        # 4. the conditions compared
        table = page.locator("#stats-table tbody tr")
        expect(table).to_have_count(2, timeout=30_000)
        assert [table.nth(i).locator("td").nth(0).inner_text() for i in range(2)] == ["P01", "P02"]
        assert [table.nth(i).locator("td").nth(1).inner_text() for i in range(2)] == ["rest", "task"]
        frames = [int(table.nth(i).locator("td").nth(3).inner_text()) for i in range(2)]
        assert all(n > 0 for n in frames), frames
        assert page.evaluate("Chart.getChart(document.getElementById('stats-chart')).data.datasets"
                             ".map(d => d.label)") == ["rest", "task"]
        for canvas in ("stats-chart", "valence-chart"):
            assert drawn_pixels(page, canvas) > 500, f"{canvas} drew nothing"
        shot(page, "4-compared")
        page.set_viewport_size({"width": 375, "height": 800})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert drawn_pixels(page, "stats-chart") > 500
        shot(page, "4-compared-375")
        page.set_viewport_size(DESKTOP)

        # 5. one analysis against hand labels
        p01 = Analysis.objects.get(participant__code="P01")
        labels = tmp_path / "p01_coded.csv"
        labels.write_text(hand_labels(p01))
        page.click(f'#analyses a[href="{p01.get_absolute_url()}"]')
        page.wait_for_url(f"{daphne_url}{p01.get_absolute_url()}*")
        page.set_input_files("#labels-form input[name=file]", str(labels))
        page.click("#labels-form button")
        expect(page.locator(".messages .success")).to_contain_text("p01_coded.csv")
        assert page.locator("#back").inner_text() == "← Stress interview"      # back to the study, not the list
        page.locator("#agreement").scroll_into_view_if_needed()
        api = page.request.get(f"{daphne_url}/api/analyses/{p01.pk}/agreement/").json()
        assert api["n"] > 100 and api["kappa"] is not None, api
        assert page.locator("#agreement-n").inner_text() == str(api["n"])
        assert page.locator("#agreement-kappa").inner_text() == f"{api['kappa']:.2f}"
        assert page.locator("#agreement-accuracy").inner_text() == f"{api['accuracy'] * 100:.1f}%"
        assert page.locator("#confusion tbody tr").count() == 7
        assert f"accuracy {api['accuracy'] * 100:.1f}%, Cohen's κ {api['kappa']:.2f}." in \
            page.locator(".messages .success").inner_text()
        shot(page, "5-agreement")
        page.set_viewport_size({"width": 375, "height": 800})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "5-agreement-375")
        assert problems == []
        page.close()

        # 6. the colleague accepts; the viewer sees it all, and may change nothing
        page, problems = sign_in(browser, daphne_url, "bob")
        expect(page.locator("#invitations tbody tr", has_text="Stress interview")).to_contain_text("viewer")
        page.click("#invitations button[value=accept]")
        page.wait_for_url(study_url)
        page.goto(f"{daphne_url}/analyses/studies/")
        expect(page.locator("#studies tbody tr", has_text="Stress interview")).to_contain_text("viewer")
        page.click("#studies >> text=Stress interview")
        page.wait_for_url(study_url)
        assert page.locator("#your-role").inner_text() == "viewer"
        expect(page.locator("#analyses tbody tr")).to_have_count(2)
        expect(page.locator("#stats-table tbody tr")).to_have_count(2)
        assert page.locator("#upload-form").count() == 0
        assert page.locator("#member-form").count() == 0
        assert page.locator("form[action$='/delete']").count() == 0
        shot(page, "6-viewer")
        page.goto(f"{daphne_url}{p01.get_absolute_url()}")
        assert page.locator("#agreement-kappa").inner_text() == f"{api['kappa']:.2f}"
        assert page.locator("#labels-form").count() == 0
        # nor buttons that could only answer 403
        assert page.locator("form[action$='/rerun'], form[action$='/delete'], #analysis-edit").count() == 0
        assert page.locator("#back").inner_text() == "← Stress interview"
        page.locator("#agreement").scroll_into_view_if_needed()
        page.screenshot(path=str(servers.ARTIFACTS / "study-workflow-6-viewer-analysis.png"))
        assert problems == []
    finally:
        browser.close()


def drawn_pixels(page, canvas_id: str) -> int:
    """How many pixels of the canvas are not blank (Chart.js leaves the background transparent)."""
    return page.evaluate("""(id) => {
        const c = document.getElementById(id), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }""", canvas_id)
