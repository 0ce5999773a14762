"""Downloads answer HTTP Range requests, so a <video> on the timeline page can seek in the original
and the annotated copy (Chromium's seeking under daphne is tested in test_timeline_page.py)."""

import pytest

from emotion.research.analyses import services
from emotion.web.streaming import byte_range
from tests.conftest import CLIP, need
from tests.research.conftest import upload

pytestmark = pytest.mark.django_db


def body(res) -> bytes:
    return b"".join(res.streaming_content)


def test_a_range_of_the_original(client, researcher):
    client.force_login(researcher)
    a = services.create_analysis(researcher, upload(need(CLIP)))
    data = need(CLIP).read_bytes()
    url = f"/analyses/{a.pk}/original"

    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes" and body(whole) == data

    part = client.get(url, HTTP_RANGE="bytes=100-2000000")           # 2 MB blocks cross a read's edge too
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    assert body(part) == data[100:] and int(part["Content-Length"]) == len(data) - 100

    middle = client.get(url, HTTP_RANGE=f"bytes={len(data) // 2}-{len(data) // 2 + 9}")
    assert middle.status_code == 206 and body(middle) == data[len(data) // 2:len(data) // 2 + 10]
    tail = client.get(url, HTTP_RANGE="bytes=-16")
    assert tail.status_code == 206 and body(tail) == data[-16:]

    past = client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(data)}"
    # forms it does not serve as a range get the whole file, as HTTP allows
    for header in ("bytes=0-1,5-9", "items=0-10", "bytes=9-1"):
        res = client.get(url, HTTP_RANGE=header)
        assert res.status_code == 200 and body(res) == data, header


def test_range_parsing():
    assert byte_range("bytes=0-0", 10) == (0, 0)
    assert byte_range("bytes=5-", 10) == (5, 9)
    assert byte_range("bytes=-3", 10) == (7, 9)
    assert byte_range("bytes=-30", 10) == (0, 9)
    assert byte_range("bytes=3-300", 10) == (3, 9)
    assert byte_range("bytes=10-", 10) == "unsatisfiable"
    assert byte_range("bytes=-0", 10) == "unsatisfiable"
    assert byte_range(None, 10) is None and byte_range("bytes=a-b", 10) is None
