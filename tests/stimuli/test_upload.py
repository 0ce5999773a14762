"""Stimulus uploads on the study page and through the API: checked as analysis uploads are (content, size,
a video's probed duration), an image's display time chosen, refusals said in the Stimuli card with what
was typed kept, and the file gone with its stimulus or its study."""

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from emotion.ml.media import probe_video
from emotion.research.studies import services as study_services
from emotion.stimuli.models import IMAGE_SECONDS_DEFAULT, Stimulus
from tests.conftest import CLIP, MEDIA, need
from tests.research.conftest import api_for

pytestmark = pytest.mark.django_db


def stored_files() -> list:
    """Every stimulus file in the storage (they sit in stimuli/<year>/<month>/)."""
    root = Path(default_storage.path("stimuli"))
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def page_upload(client, study, path, **fields):
    with open(path, "rb") as fh:
        return client.post(f"/stimuli/studies/{study.pk}/upload", {"file": fh, **fields})


def test_a_video_stimulus_gets_its_probed_duration_and_plays_from_its_page(people, client):
    client.force_login(people["editor"])
    res = page_upload(client, people["study"], need(CLIP), title="Clip", consent_text="We film your face.")
    s = Stimulus.objects.get()
    assert res.status_code == 302 and res["Location"] == f"/stimuli/{s.pk}/"
    info = probe_video(need(CLIP))
    assert s.kind == "video" and s.media_format == "mp4" and (s.width, s.height) == (info.width, info.height)
    assert abs(s.duration - info.frame_count / info.fps) < 0.01 and 9 < s.duration < 9.3
    assert s.consent_text == "We film your face." and s.created_by == people["editor"]
    assert s.file.name.startswith("stimuli/") and s.file.name.endswith(".mp4") and "short_hamilton" not in s.file.name
    page = client.get(f"/stimuli/{s.pk}/").content.decode()
    assert '<video id="stimulus-media"' in page and f'src="/stimuli/{s.pk}/media"' in page
    assert "Added the video “Clip”" in page


def test_an_image_stimulus_is_shown_for_the_time_chosen(people, client):
    client.force_login(people["owner"])
    page_upload(client, people["study"], need(MEDIA / "two_people.jpg"), duration="")
    page_upload(client, people["study"], need(MEDIA / "obama.jpg"), duration="2.5")
    default, chosen = Stimulus.objects.order_by("pk")
    assert (default.kind, default.duration, default.title) == ("image", IMAGE_SECONDS_DEFAULT, "two_people")
    assert chosen.duration == 2.5
    page = client.get(f"/stimuli/{chosen.pk}/").content.decode()
    assert '<img id="stimulus-media"' in page and "see this image for 2.5 s" in page


@pytest.mark.parametrize("case, fields, said", [
    ("text_as_mp4", {}, "its content is none of these formats"),
    ("empty", {}, "The file is empty"),
    ("truncated_mp4", {}, "MP4 video cannot be read"),
    ("huge_png", {}, "refused before decoding"),
    ("image", {"duration": "-3"}, "An image is shown for more than 0"),
    ("image", {"duration": "soon"}, "is not a number of seconds"),
])
def test_a_refused_upload_says_why_in_the_stimuli_card_and_keeps_what_was_typed(people, client, bad_media, case,
                                                                                   fields, said):
    client.force_login(people["editor"])
    path = need(MEDIA / "obama.jpg") if case == "image" else bad_media[case]
    before = stored_files()
    res = page_upload(client, people["study"], path, title="My title", consent_text="Consent words", **fields)
    html = res.content.decode()
    assert res.status_code == 400 and not Stimulus.objects.exists()
    card = html[html.index('<section class="card" id="stimuli">'):]
    card = card[:card.index("</section>")]
    assert said in card and "Nothing was stored." in card and 'role="alert"' in card
    assert 'value="My title"' in card and "Consent words</textarea>" in card
    assert said not in html[:html.index('id="stimuli"')]          # not at the top of the page as well
    assert stored_files() == before


def test_a_file_over_the_size_limit_is_refused_through_the_page_and_the_api(people, client):
    client.force_login(people["owner"])
    before = stored_files()
    with override_settings(FER_MAX_UPLOAD_MB=0.1):
        res = page_upload(client, people["study"], need(CLIP))
        api = api_for(people["owner"])
        with open(need(CLIP), "rb") as fh:
            answer = api.post(f"/api/studies/{people['study'].pk}/stimuli/", {"file": fh}, format="multipart")
    assert res.status_code == 400 and "the limit is 0.1 MB" in res.content.decode()
    assert answer.status_code == 400 and "the limit is 0.1 MB" in answer.json()["file"][0]
    assert not Stimulus.objects.exists() and stored_files() == before


def test_the_api_refuses_a_video_over_the_duration_limit(people):
    api = api_for(people["editor"])
    with override_settings(FER_MAX_VIDEO_SECONDS=5), open(need(CLIP), "rb") as fh:
        res = api.post(f"/api/studies/{people['study'].pk}/stimuli/", {"file": fh}, format="multipart")
    assert res.status_code == 400 and "the limit is 0.1 min" in res.json()["file"][0]
    bad = api.post(f"/api/studies/{people['study'].pk}/stimuli/",
                   {"file": SimpleUploadedFile("x.mp4", b"not a video at all")}, format="multipart")
    assert bad.status_code == 400 and "whatever its name says" in bad.json()["file"][0]
    assert not Stimulus.objects.exists()


def test_the_file_goes_with_its_stimulus_and_with_its_study(people, video, image, client,
                                                             django_capture_on_commit_callbacks):
    names = [video.file.name, image.file.name]
    assert all(default_storage.exists(n) for n in names)
    client.force_login(people["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        res = client.post(f"/stimuli/{video.pk}/delete")
    assert res["Location"].endswith(f"/analyses/studies/{people['study'].pk}/#stimuli")
    assert not default_storage.exists(names[0]) and default_storage.exists(names[1])
    with django_capture_on_commit_callbacks(execute=True):
        study_services.delete_study(people["study"])
    assert not default_storage.exists(names[1]) and not Stimulus.objects.exists()


def test_stimulus_uploads_take_the_upload_cap_not_the_form_cap():
    # A stimulus video is as large as any upload: daphne's guard and the proxy (both read
    # upload_paths.txt) must give its page and API paths the upload cap, not the form's (1 MB).
    from django.urls import reverse

    from emotion.web.limits import body_limit, is_upload

    for path in (reverse("study-stimulus-upload", args=[3]), reverse("api-study-stimuli", args=[3])):
        assert is_upload("POST", path), path
        assert body_limit("POST", path) > 100 * 1024 * 1024
    assert not is_upload("POST", reverse("stimulus-marker-add", args=[3]))
