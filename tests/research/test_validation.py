"""What an upload is, decided from its bytes; what is refused, and the message that says why."""

import pytest

from emotion.research.validation import UploadRefused, inspect_upload, sniff_format
from tests.conftest import CLIP, need
from tests.research.conftest import upload


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_images_are_recognised_by_content(image_formats, fmt):
    facts = inspect_upload(upload(image_formats[fmt], name="whatever.bin"))
    assert (facts.kind, facts.media_format, facts.width, facts.height) == ("image", fmt, 1126, 661)


@pytest.mark.parametrize("fmt", ["mp4", "mov", "avi", "webm", "mkv"])
def test_videos_are_recognised_by_content(video_formats, fmt):
    facts = inspect_upload(upload(video_formats[fmt], name="holiday.jpg"))
    assert facts.kind == "video" and facts.media_format == fmt
    assert (facts.width, facts.height) == (640, 360)
    assert facts.fps == pytest.approx(29.97, abs=0.05)
    assert facts.extension == f".{fmt}"


def test_a_photo_named_like_a_video_is_stored_as_a_photo(image_formats):
    facts = inspect_upload(upload(image_formats["jpeg"], name="clip.mp4"))
    assert facts.kind == "image" and facts.extension == ".jpg"


@pytest.mark.parametrize("case, words", [
    ("empty", "empty"),
    ("text_as_mp4", "not an image"),
    ("huge_png", "limit"),
    ("truncated_mp4", "cannot be read"),
])
def test_bad_files_are_refused_with_a_reason(bad_media, case, words):
    with pytest.raises(UploadRefused) as err:
        inspect_upload(upload(bad_media[case]))
    assert words in str(err.value)
    assert str(bad_media[case].parent) not in str(err.value)      # no server paths in messages


def test_size_limit(settings):
    settings.FER_MAX_UPLOAD_MB = 0.1
    with pytest.raises(UploadRefused, match="the limit is 0.1 MB"):
        inspect_upload(upload(need(CLIP)))


def test_duration_limit(settings):
    settings.FER_MAX_VIDEO_SECONDS = 5
    with pytest.raises(UploadRefused, match=r"lasts 0.2 min; the limit is 0.1 min"):
        inspect_upload(upload(need(CLIP)))


def test_small_uploads_leave_no_temporary_file(settings, video_formats):
    before = set(settings.FILE_UPLOAD_TEMP_DIR.iterdir())
    inspect_upload(upload(video_formats["avi"]))
    assert set(settings.FILE_UPLOAD_TEMP_DIR.iterdir()) == before


def test_sniffing_does_not_trust_the_name():
    assert sniff_format(b"hello world, this is text") is None
    assert sniff_format(b"\x00\x00\x00\x18ftypqt  ") == "mov"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"


def test_heic_and_avif_photos_are_not_taken_for_videos():
    assert sniff_format(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") is None
    assert sniff_format(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1") is None
    assert sniff_format(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2") == "mp4"
