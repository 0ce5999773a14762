"""Event markers: one rule for every way in (0 <= start <= end <= duration, a name), the page's plain forms
answering in the markers card with what was typed kept, and the CSV: every bad line by its number and
nothing imported, an export that spreadsheets open safely and that imports back unchanged."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from emotion.stimuli.library import markers
from emotion.stimuli.models import EventMarker

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name, start, end, field, said", [
    ("", 1, 2, "name", "Give the marker a name"),
    ("x" * 81, 1, 2, "name", "longer than 80 characters"),
    ("a\x00b", 1, 2, "name", "a NUL byte"),
    ("logo", "soon", 2, "start", "“soon” is not a number of seconds"),
    ("logo", 1, "", "end", "The end is missing"),
    ("logo", "nan", 2, "start", "is not a number of seconds"),
    ("logo", -0.5, 2, "start", "before the stimulus begins"),
    ("logo", 3, 2, "end", "The end (2 s) is before the start (3 s)"),
    ("logo", 1, 9.5, "end", "after the stimulus ends (9.176 s)"),
])
def test_a_marker_out_of_its_stimulus_is_refused_naming_the_field(video, name, start, end, field, said):
    with pytest.raises(markers.MarkerRefused) as refused:
        markers.add(video, name, start, end)
    assert refused.value.field == field and said in str(refused.value)
    assert not EventMarker.objects.exists()


def test_a_change_of_a_field_a_marker_does_not_have_is_refused_naming_it(video):
    marker = markers.add(video, "logo", 1, 2)
    with pytest.raises(markers.MarkerRefused, match="These cannot be changed: colour."):
        markers.change(marker, end=3, colour="red")
    marker.refresh_from_db()
    assert (marker.start, marker.end) == (1, 2)


def test_the_span_may_be_an_instant_and_reach_the_end(video):
    markers.add(video, "cut", "4", "4")
    markers.add(video, " whole ", 0, video.duration)
    assert [(m.name, m.start, m.end) for m in video.markers.all()] == [("whole", 0, 9.176), ("cut", 4, 4)]


def test_the_page_adds_edits_and_deletes_markers_answering_in_the_markers_card(people, video, client):
    client.force_login(people["editor"])
    base = f"/stimuli/{video.pk}"
    res = client.post(f"{base}/markers", {"name": "chorus", "start": "2", "end": "5.5"})
    assert res["Location"] == f"{base}/#markers"
    marker = EventMarker.objects.get()
    page = client.get(f"{base}/").content.decode()
    card = page[page.index('id="markers"'):page.index('id="time-course"')]
    assert "Added “chorus”, 2–5.5 s." in card and "Added “chorus”" not in page[:page.index('id="markers"')]
    assert 'class="marker-span" data-start="2.000000" data-end="5.500000"' in page

    # refused: the page again, the reason in the card beside the form, what was typed still in it
    res = client.post(f"{base}/markers", {"name": "outro", "start": "8", "end": "12"})
    page = res.content.decode()
    card = page[page.index('id="markers"'):page.index('id="time-course"')]
    assert res.status_code == 400 and "Not added: The end (12 s) is after the stimulus ends (9.176 s)." in card
    assert 'value="outro"' in card and 'value="8"' in card and 'value="12"' in card
    assert "after the stimulus ends" not in page[:page.index('id="markers"')]
    assert EventMarker.objects.count() == 1

    res = client.post(f"{base}/markers/{marker.pk}", {"name": "chorus", "start": "6", "end": "5.5"})
    page = res.content.decode()
    assert res.status_code == 400 and "“chorus” was not changed: The end (5.5 s) is before the start (6 s)." in page
    assert '<details class="marker-edit" open>' in page and 'value="6"' in page
    assert EventMarker.objects.get().start == 2
    assert client.post(f"{base}/markers/{marker.pk}", {"name": "refrain", "start": "1", "end": "3"}).status_code == 302
    assert (EventMarker.objects.get().name, EventMarker.objects.get().start) == ("refrain", 1)
    assert client.post(f"{base}/markers/{marker.pk}/delete")["Location"] == f"{base}/#markers"
    assert not EventMarker.objects.exists()


def send_csv(client, video, text: str, name="markers.csv"):
    return client.post(f"/stimuli/{video.pk}/markers.csv", {"file": SimpleUploadedFile(name, text.encode())})


def test_a_bad_csv_imports_nothing_and_lists_every_bad_line_in_the_markers_card(people, video, client):
    client.force_login(people["owner"])
    markers.add(video, "kept", 1, 2)
    res = send_csv(client, video, "name,start,end\nintro,0,2\nlogo,abc,3\n\nscene,5,4\nfinale,8,9.9\nok,1,2\n"
                                  "short,1\n")
    page = res.content.decode()
    card = page[page.index('id="markers"'):page.index('id="time-course"')]
    assert res.status_code == 400
    assert "markers.csv was not imported; the markers are as they were." in card
    for line in ("line 3: The start “abc” is not a number of seconds.",
                 "line 5: The end (4 s) is before the start (5 s).",
                 "line 6: The end (9.9 s) is after the stimulus ends (9.176 s).",
                 "line 8: 2 values where the header has 3 columns"):
        assert f"<li>{line}" in card, line
    assert "line 2" not in card and "line 7" not in card
    assert [m.name for m in video.markers.all()] == ["kept"]

    for text, said in (("start,end,name\n1,2,x\n", "line 1: the header must be name,start,end, not start,end,name."),
                       ("", "the header must be name,start,end, not empty"),
                       ("name,start,end\n" + "x,1,2\n" * 2 + "y,1\n" * 12, "… and 2 more lines; fix these first.")):
        assert said in send_csv(client, video, text).content.decode()
    bad = client.post(f"/stimuli/{video.pk}/markers.csv", {"file": SimpleUploadedFile("m.csv", b"name,start,end\n\xff,1,2\n")})
    assert "line 2: not UTF-8 text" in bad.content.decode()
    assert [m.name for m in video.markers.all()] == ["kept"]


def test_the_export_is_spreadsheet_safe_and_imports_back_unchanged(people, video, client):
    client.force_login(people["viewer"])
    markers.replace(video, [{"name": "=HYPERLINK(\"x\")", "start": 0.5, "end": 1}, {"name": "-intro", "start": 0, "end": 2},
                            {"name": "Chorus, loud", "start": 3.25, "end": 9.176}])
    res = client.get(f"/stimuli/{video.pk}/markers.csv")
    assert res["Content-Type"].startswith("text/csv") and "hamilton" in res["Content-Disposition"]
    text = res.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == ["'-intro", "'=HYPERLINK(\"x\")", "Chorus, loud"]
    assert [(r["start"], r["end"]) for r in rows] == [("0.0", "2.0"), ("0.5", "1.0"), ("3.25", "9.176")]
    before = [(m.name, m.start, m.end) for m in video.markers.all()]
    client.force_login(people["editor"])
    res = send_csv(client, video, "\ufeff" + text)               # as a spreadsheet saves it, with its mark
    assert res.status_code == 302
    assert [(m.name, m.start, m.end) for m in video.markers.all()] == before


def test_an_image_cannot_be_shortened_under_its_markers(people, image, client):
    client.force_login(people["editor"])
    markers.add(image, "look", 1, 4)
    res = client.post(f"/stimuli/{image.pk}/edit", {"title": "Faces", "duration": "3", "consent_text": "ok"})
    page = res.content.decode()
    card = page[page.index('id="stimulus-settings"'):]
    assert res.status_code == 400 and "The marker “look” ends at 4 s, after 3 s" in card
    assert 'value="Faces"' in card and 'value="3"' in card
    image.refresh_from_db()
    assert image.duration == 4.5 and image.title == "two_people"
    assert client.post(f"/stimuli/{image.pk}/edit", {"title": "Faces", "duration": "6", "consent_text": "ok"}
                       )["Location"] == f"/stimuli/{image.pk}/#stimulus-settings"
    image.refresh_from_db()
    assert (image.duration, image.title, image.consent_text) == (6, "Faces", "ok")
