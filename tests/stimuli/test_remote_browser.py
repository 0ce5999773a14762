"""End to end: participants in headless Chromium, the shared clip as their camera, a real daphne and
the real engine. Two take part through their own links and both recordings are stored on the stimulus'
time axis, and the stimulus page's group time course counts both with intervals; a third withdraws
and leaves nothing. The pages are screenshot at 1280 and 375 px."""

import time

import pytest

from emotion.stimuli.models import Recording, RecordingFrame, StimulusLink
from tests import servers

from tests.conftest import MEDIA

from .remote_support import camera_clip, link_for, make_stimulus, study_with_members

pytestmark = pytest.mark.django_db(transaction=True)
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 375, "height": 812}


@pytest.fixture
def browser(playwright_driver):
    b = servers.launch_chromium(playwright_driver, "--use-fake-device-for-media-stream",
                                "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={camera_clip()}")
    yield b
    b.close()


def shot(page, name: str):
    servers.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(servers.ARTIFACTS / f"remote-{name}.png"), full_page=True)


def open_page(browser, url: str, viewport: dict):
    page = browser.new_context(viewport=viewport).new_page()
    page.on("dialog", lambda dialog: dialog.accept())           # "Stop and withdraw?" is answered yes
    page.goto(url)
    return page


def through_the_check(page, name: str = None):
    if name:
        shot(page, f"consent-{name}")
    page.check("#take-agree")
    page.click("#take-begin")
    servers.wait_until(page, "window.ferTake.ready", timeout=120)
    if name:
        shot(page, f"check-{name}")
    page.click("#take-start")
    servers.wait_until(page, "ferTake.phase === 'playing' || ferTake.phase === 'done'", timeout=60)


def test_two_participants_are_recorded_on_the_stimulus_time_axis_and_a_third_withdraws(browser, daphne_url,
                                                                                       django_user_model):
    study, users = study_with_members(django_user_model)
    stimulus = make_stimulus(study)
    takes = {code: link_for(stimulus, code) for code in ("P01", "P02")}

    for code, viewport, name in (("P01", WIDE, "1280"), ("P02", PHONE, "375")):
        page = open_page(browser, f"{daphne_url}/stimuli/take/{takes[code][1]}/", viewport)
        through_the_check(page, name)
        if code == "P02":                  # the player paused, then sent ahead: both become gaps
            page.evaluate("document.getElementById('take-stimulus').pause()")
            servers.wait_until(page, "ferTake.paused === 'pause'")
            page.evaluate("document.getElementById('take-stimulus').play()")
            servers.wait_until(page, "ferTake.paused === null")
            page.evaluate("document.getElementById('take-stimulus').currentTime = 2.2")
        shot(page, f"playing-{name}")
        servers.wait_until(page, "ferTake.phase === 'done'", timeout=60)
        assert "Your session is stored" in page.text_content("#step-done")
        assert page.evaluate("ferTake.stats.errors") == 0, page.evaluate("JSON.stringify(ferTake.stats)")
        # frames went on being tagged to the stimulus' end (the server echoes each frame's time)
        assert 1.5 < page.evaluate("ferTake.stats.lastT") <= 3.1, page.evaluate("JSON.stringify(ferTake.stats)")
        page.context.close()

    # the third watches a picture shown for a minute, and withdraws once frames of theirs are stored
    picture = make_stimulus(study, MEDIA / "obama_and_biden.jpg", kind="image", duration=60.0)
    withdrawn, key = link_for(picture, "P03")
    page = open_page(browser, f"{daphne_url}/stimuli/take/{key}/", WIDE)
    through_the_check(page)
    servers.wait_until(page, "ferTake.stats.stored >= 3", timeout=60)
    written = RecordingFrame.objects.filter(recording__stimulus=picture)
    deadline = time.monotonic() + 30                                     # rows are written every 2 s
    while not written.exists() and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert written.exists()
    page.click(".take-stage-stop")
    servers.wait_until(page, "ferTake.phase === 'withdrawn'", timeout=30)
    assert page.is_visible("#step-withdrawn")
    page.context.close()

    assert not Recording.objects.filter(stimulus=picture).exists()     # P03 left nothing
    assert not RecordingFrame.objects.filter(recording__participant__code="P03").exists()
    # frames of P03 had been stored before the withdrawal: the link's use stays counted
    assert StimulusLink.objects.get(pk=withdrawn.pk).uses == 1
    recordings = {r.participant.code: r for r in Recording.objects.filter(stimulus=stimulus)}
    assert sorted(recordings) == ["P01", "P02"]
    for code, rec in recordings.items():
        times = list(rec.frames.order_by("pk").values_list("time", flat=True))
        assert rec.state == "done" and rec.source == "remote" and rec.link == takes[code][0]
        # about 10 frames/s over the 3 s (P02 skipped 2 s); a row for each one where the camera's face was found
        watched = 3.0 if code == "P01" else 1.0
        assert rec.frames_analysed >= 4 * watched and len(times) >= 2 * watched, (code, rec.frames_analysed, times)
        # the player's own clock, on the stimulus' axis up to its end, never twice the same moment (how far
        # the stored rows reach depends on when the camera's face was found, which a busy machine delays:
        # the frames' own times are checked above, from the replies)
        assert 0 <= times[0] < (2.0 if code == "P01" else 3.0) and times[-1] <= stimulus.duration + 0.1
        assert times == sorted(times) and len(set(times)) == len(times)
        assert all(g["reason"] in ("pause", "seek", "hidden", "connection") for g in rec.gaps)
    assert [link.uses for link in stimulus.links.order_by("participant__code")] == [1, 1]

    # the researcher's view: the stimulus page's group time course counts both participants, with
    # intervals where both have frames in a bin
    page = browser.new_context(viewport=WIDE).new_page()
    servers.sign_in_at(page, daphne_url, f"/stimuli/{stimulus.pk}/", "owner", "pw-owner-long-1")
    servers.wait_until(page, "document.getElementById('timecourse')?.dataset.state === 'drawn'")
    course = page.evaluate(f"fetch('/api/stimuli/{stimulus.pk}/time-course/?bin=0.5').then((r) => r.json())")
    assert course["participants"] == 2 and course["recordings"] == 2, course
    valence = course["groups"][0]["series"]["valence"]
    both = [i for i, n in enumerate(valence["n"]) if n == 2]
    assert both and all(valence["low"][i] <= valence["mean"][i] <= valence["high"][i] for i in both), valence
    shot(page, "time-course")
    page.context.close()
    assert recordings["P01"].gaps == []
    pause, seek = recordings["P02"].gaps
    # a pause stops the player: its gap holds (almost) no stimulus time, it marks where watching broke
    assert pause["reason"] == "pause" and 0 <= pause["end"] - pause["start"] < 0.05 and pause["end"] < 2.2
    assert seek["reason"] == "seek" and seek["start"] < seek["end"] == 2.2
    times = list(recordings["P02"].frames.values_list("time", flat=True))
    assert not [t for t in times if seek["start"] < t < seek["end"]], (recordings["P02"].gaps, times)

    for viewport, name in ((WIDE, "1280"), (PHONE, "375")):
        page = browser.new_context(viewport=viewport).new_page()
        servers.sign_in_at(page, daphne_url, f"/stimuli/{stimulus.pk}/links/", "owner", "pw-owner-long-1")
        page.wait_for_url(f"**/stimuli/{stimulus.pk}/links/")
        assert page.locator("#recordings tbody tr").count() == 2
        shot(page, f"links-{name}")
        page.fill("#per-code-form textarea[name=codes]", f"N{name}a\nN{name}b")
        page.click("#per-code-form button[type=submit]")
        page.wait_for_selector("#made-links")
        assert page.locator("#made-links input.made-url").count() == 2
        shot(page, f"links-made-{name}")
        page.context.close()


def test_a_participant_whose_server_restarts_goes_on_with_a_connection_gap(browser, site_env, django_user_model):
    """A daphne of its own, stopped and started again on the same port under a playing stimulus."""
    study, _ = study_with_members(django_user_model)
    picture = make_stimulus(study, MEDIA / "obama_and_biden.jpg", kind="image", duration=8.0)
    link, key = link_for(picture, "P01")
    port = servers.free_port()
    log = servers.ARTIFACTS / "daphne-remote-reconnect.log"
    proc, url = servers.start_daphne(site_env, log, port=port)
    try:
        page = open_page(browser, f"{url}/stimuli/take/{key}/", WIDE)
        through_the_check(page)
        servers.wait_until(page, "ferTake.stats.stored >= 3", timeout=60)
        servers.stop(proc)
        servers.wait_until(page, "document.getElementById('take-status').textContent.includes('reconnecting')")
        lost_at = page.evaluate("ferTake.stimulusTime()")
        assert page.evaluate("ferTake.paused") == "connection"          # the picture waits for the server
        before = page.evaluate("ferTake.stats.stored")
        proc, _ = servers.start_daphne(site_env, log.with_name("daphne-remote-reconnect-2.log"), port=port)
        servers.wait_until(page, f"ferTake.stats.stored > {before}", timeout=60)
        servers.wait_until(page, "ferTake.phase === 'done'", timeout=60)
    finally:
        servers.stop(proc)
    rec = Recording.objects.get(stimulus=picture)
    (gap,) = rec.gaps
    # the gap runs from the last frame the old server saw to where the page came back, not to the end
    assert gap["reason"] == "connection" and gap["start"] <= lost_at + 0.2 and gap["end"] < picture.duration
    times = list(rec.frames.order_by("pk").values_list("time", flat=True))
    assert times == sorted(times) and times[-1] > gap["end"] and rec.state == "done"
    assert StimulusLink.objects.get(pk=link.pk).uses == 1
