"""What an upload is, decided from its bytes; what is refused, and the message that says why."""

import pytest

from emotion.research.analyses.validation import UploadRefused, inspect_upload, sniff_format
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


def test_the_probe_reads_where_the_first_picture_lies_on_a_players_clock():
    """Read once at upload, in the probe's process: the pages then never open an upload to find it."""
    facts = inspect_upload(upload(need(CLIP)))
    assert 0.8 < facts.offset < 0.9            # the shared clip's sound starts 0.84 s before its first picture


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


# --- hostile media: refused from their headers, by the probe process ---------------------------------
from tests.hostile_media import (one_frame_video, solid_jpeg, solid_png, solid_webp,  # noqa: E402
                                 with_stray_byte_before_dqt)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("hostile")
    files = {"png_30000": solid_png(30000, 30000), "png_9000": solid_png(9000, 9000),
             "webp_16383": solid_webp(16383, 16383)}
    out = {}
    for name, data in files.items():
        out[name] = d / f"{name}.{name.split('_')[0]}"
        out[name].write_bytes(data)
    out["mov_16000"] = one_frame_video(d / "frame.mov", 16000, 16000)
    out["mp4_16000"] = one_frame_video(d / "frame.mp4", 16000, 16000)
    out["jpeg_7000"] = d / "stray.jpg"
    out["jpeg_7000"].write_bytes(with_stray_byte_before_dqt(solid_jpeg(7000, 7000)))
    return out


@pytest.mark.parametrize("case, words", [
    ("png_30000", "The PNG image is refused before decoding: the image is 30000x30000 pixels (900,000,000), "
                  "over the limit of 50,000,000 pixels."),
    ("png_9000", "9000x9000 pixels (81,000,000), over the limit of 50,000,000 pixels"),
    ("webp_16383", "16383x16383 pixels"),
    ("mov_16000", "The MOV video is refused before decoding: the video's frame size is 16000x16000 pixels "
                  "(256,000,000), over the limit of 8,294,400 pixels."),
    ("mp4_16000", "16000x16000 pixels"),
])
def test_media_over_the_pixel_limits_is_refused_from_its_header(hostile, case, words):
    with pytest.raises(UploadRefused) as err:
        inspect_upload(upload(hostile[case]))
    assert words in str(err.value)


def test_the_pixel_limits_come_from_the_settings(hostile, settings):
    settings.FER_MAX_IMAGE_PIXELS = 7000 * 7000 - 1
    with pytest.raises(UploadRefused, match="over the limit of 48,999,999 pixels"):
        inspect_upload(upload(hostile["jpeg_7000"]))
    settings.FER_MAX_IMAGE_PIXELS = 7000 * 7000            # the stray byte does not hide its size
    assert (inspect_upload(upload(hostile["jpeg_7000"])).width) == 7000
    settings.FER_MAX_VIDEO_PIXELS = 640 * 360 - 1
    with pytest.raises(UploadRefused, match="640x360 pixels"):
        inspect_upload(upload(need(CLIP)))


def test_a_probe_that_runs_out_of_memory_refuses_the_upload(hostile, settings):
    """A file whose decoding needs more than the probe may allocate kills (at worst) the probe: here
    the 81-million-pixel PNG, with the pixel limit lifted and 100 MB for the probe (the image needs
    243 MB)."""
    settings.FER_MAX_IMAGE_PIXELS = 100_000_000
    settings.FER_PROBE_MEMORY_MB = 100
    with pytest.raises(UploadRefused, match="could not be checked: reading it needed more than the 100 MB allowed"):
        inspect_upload(upload(hostile["png_9000"]))


def test_a_probe_that_takes_too_long_refuses_the_upload(settings, image_formats):
    settings.FER_PROBE_SECONDS = 0.01
    with pytest.raises(UploadRefused, match="could not be checked within 0.01 s"):
        inspect_upload(upload(image_formats["png"]))


def test_sizes_just_over_the_limit_show_the_difference():
    """500,000,001 bytes is over 500 MB, though both read "500.0 MB"."""
    big = upload(CLIP)
    big.size = 500_000_001
    with pytest.raises(UploadRefused) as err:
        inspect_upload(big)
    assert str(err.value) == "The file is 500,000,001 bytes; the limit is 500,000,000 bytes (500.0 MB)."
    big.size = 600_000_000
    with pytest.raises(UploadRefused, match=r"^The file is 600.0 MB; the limit is 500.0 MB.$"):
        inspect_upload(big)
