"""Hand labels: the file's format and its errors by line, matching labels to our results, the
agreement figures on known confusions, and the API and page that take the file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from emotion.ml import EMOTIONS
from emotion.research.models import Analysis, HandLabels
from emotion.research.stats.agreement import MAX_BYTES, LabelFileError, match, parse, scores
from tests.research.conftest import api_for
from tests.research.study_data import add_result, build_study, make_analysis, member

pytestmark = pytest.mark.django_db

ALL = ", ".join(EMOTIONS)


def errors_of(text) -> list:
    with pytest.raises(LabelFileError) as caught:
        parse(text if isinstance(text, bytes) else text.encode())
    return caught.value.errors


def test_segments_and_frames_in_any_case_with_optional_face_ids():
    rows = parse(b"\xef\xbb\xbfStart,End,Label\n0,1.5,Happy\n\n1.5,3,SAD\n")     # a spreadsheet's BOM too
    assert rows == [{"start": 0.0, "end": 1.5, "label": "happy", "line": 2},
                    {"start": 1.5, "end": 3.0, "label": "sad", "line": 4}]
    rows = parse(b"face_id,frame,label\n2,10,neutral\n,11,fear\n")
    assert rows == [{"frame": 10, "label": "neutral", "face_id": 2, "line": 2}, {"frame": 11, "label": "fear", "line": 3}]


@pytest.mark.parametrize("text, expected", [
    ("start,end,label\n" + "0,1,happy\n" * 0 + "".join(f"{i},{i + 1},happy\n" for i in range(5)) + "5,6,hapy\n",
     [f'line 7: "hapy" is not one of {ALL}']),
    ("start,end,label\n3.5,2,sad\n", ["line 2: end 2 is not after start 3.5"]),
    ("start,end,label\nabc,2,sad\n0,x,sad\n", ['line 2: start "abc" is not a number', 'line 3: end "x" is not a number']),
    ("start,end,label\n-1,2,sad\n", ['line 2: start "-1" must be a number of seconds, 0 or more']),
    ("frame,label\n1.5,sad\n", ['line 2: frame "1.5" is not a whole number, 0 or more']),
    ("frame,label,face_id\n1,sad,one\n", ['line 2: face_id "one" is not a whole number, 0 or more']),
    ("frame,label\n1,sad,extra\n", ["line 2: 3 values where the header has 2 columns"]),
    ("time,emotion\n1,sad\n", ["line 1: the header must be start,end,label or frame,label (with an optional face_id "
                              "column), not time,emotion."]),
    ("0,1,happy\n", ["line 1: the header must be start,end,label or frame,label (with an optional face_id column), "
                     "not 0,1,happy."]),
    ("", ["The file is empty: it needs a header (start,end,label or frame,label) and rows."]),
    ("start,end,label\n", ["The file has a header but no labels."]),
    ("start,end,label\n0,2,sad\n1,3,happy\n", ["line 3: 1–3 s overlaps 0–2 s on line 2"]),
    ("frame,label\n4,sad\n4,happy\n", ["line 3: frame 4 is labelled already on line 2"]),
    # every fault at once: a misspelt label does not hide the overlap of its row, nor a bad start a later row
    ("start,end,label\n0,2,sad\n1,3,hapy\nx,5,sad\n",
     [f'line 3: "hapy" is not one of {ALL}', "line 3: 1–3 s overlaps 0–2 s on line 2", 'line 4: start "x" is not a number']),
])
def test_bad_files_say_what_is_wrong_and_where(text, expected):
    assert errors_of(text) == expected


def test_not_utf8_and_too_big():
    assert errors_of("frame,label\n1,sad\n2,tr\xe4urig\n".encode("latin-1")) == [
        "line 3: not UTF-8 text; save the file as UTF-8 CSV."]
    big = b"frame,label\n" + b"1,sad\n" * (MAX_BYTES // 6 + 1)
    assert errors_of(big)[0].startswith("The file is 5.0 MB; hand labels may be at most 5 MB")


def test_a_field_longer_than_the_csv_modules_limit_is_a_clear_error():
    huge = "frame,label\n1,sad\n2," + "x" * 140_000 + "\n"
    errs = errors_of(huge)
    assert len(errs) == 1 and errs[0].startswith("line 3: not a readable CSV row (field larger than field limit")


def test_every_error_is_listed_up_to_a_limit():
    errs = errors_of("frame,label\n" + "".join(f"{i},x\n" for i in range(30)))
    assert len(errs) == 11 and errs[0].startswith("line 2:") and errs[9].startswith("line 11:")


def test_kappa_accuracy_and_f1_on_a_known_confusion():
    # hand happy: 20 agree, 5 we call sad; hand sad: 10 we call happy, 15 agree
    pairs = [("happy", "happy")] * 20 + [("happy", "sad")] * 5 + [("sad", "happy")] * 10 + [("sad", "sad")] * 15
    s = scores(pairs)
    assert s["n"] == 50 and s["accuracy"] == 0.7
    assert s["kappa"] == pytest.approx(0.4, abs=1e-4)            # (0.7 - 0.5) / (1 - 0.5)
    assert s["macro_f1"] == pytest.approx((40 / 55 + 30 / 45) / 2, abs=1e-4)
    h, sad = EMOTIONS.index("happy"), EMOTIONS.index("sad")
    assert s["confusion"][h][h] == 20 and s["confusion"][h][sad] == 5 and s["confusion"][sad][h] == 10
    assert sum(map(sum, s["confusion"])) == 50 and s["labels"] == list(EMOTIONS)
    assert set(s["per_class"]) == {"happy", "sad"}


def test_perfect_and_chance_and_empty():
    assert scores([("fear", "fear")] * 3 + [("sad", "sad")])["kappa"] == 1.0
    one_class = scores([("sad", "sad")] * 4)
    assert one_class["accuracy"] == 1 and one_class["kappa"] is None    # undefined: chance explains it all
    assert scores([("sad", "happy"), ("happy", "sad")])["kappa"] == -1.0
    empty = scores([])
    assert empty["n"] == 0 and empty["accuracy"] is None and empty["kappa"] is None


def _rows(*specs):
    fields = ("frame", "time", "face_id", "w", "h", "dominant", "reliable")
    return [dict(zip(fields, s)) for s in specs]


def test_a_label_without_face_id_goes_to_the_largest_face_and_unreliable_ones_are_left_out():
    results = _rows((0, 0.0, 1, 100, 100, "happy", True), (0, 0.0, 2, 40, 40, "neutral", True),
                    (1, 0.1, 1, 100, 100, "happy", False), (1, 0.1, 2, 40, 40, "neutral", True),
                    (2, 0.2, 2, 40, 40, "sad", None), (3, 0.3, 1, 100, 100, "sad", True))
    segments = [{"start": 0.0, "end": 0.3, "label": "happy"},       # frames 0-2: 0.3 itself is the next one's
                {"start": 0.3, "end": 0.35, "label": "sad", "face_id": 2},
                {"start": 5, "end": 6, "label": "fear"}]
    pairs, unreliable, unmatched = match(segments, results)
    # frame 0: face 1 (largest); frame 1: face 1 is unreliable, left out (not face 2 in its place);
    # frame 2: face 2 is all there is; the face_id 2 segment finds no face 2 at 0.3 s; 5-6 s is past the end
    assert pairs == [("happy", "happy"), ("happy", "sad")]
    assert unreliable == 1 and unmatched == 2


def _labelled_analysis(owner, study=None):
    """Frames 0-9 at 0.0-0.9 s: face 1 (large) happy on 0-4, sad on 5-9; face 2 (small) neutral."""
    a = make_analysis(owner, study)
    for f in range(10):
        add_result(a, f, {"happy": .9, "sad": .1} if f < 5 else {"sad": .9, "happy": .1}, box=(0, 0, 100, 100))
        add_result(a, f, {"neutral": 1}, face_id=2, box=(200, 0, 40, 40))
    return a


def csv_file(text: str, name="labels.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_labels_api_answers_and_keeps_the_agreement(researcher):
    a = _labelled_analysis(researcher)
    client = api_for(researcher)
    assert client.get(f"/api/analyses/{a.pk}/agreement/").status_code == 404
    res = client.post(f"/api/analyses/{a.pk}/labels/", {"file": csv_file("start,end,label\n0,0.4,happy\n0.4,1,sad\n")},
                      format="multipart")
    assert res.status_code == 200, res.content
    body = res.json()
    # frame 4 (0.4 s) is hand-labelled sad but still happy for us
    assert body["n"] == 10 and body["accuracy"] == 0.9
    assert body["confusion"][EMOTIONS.index("sad")][EMOTIONS.index("happy")] == 1
    stored = HandLabels.objects.get(analysis=a)
    assert stored.agreement["n"] == 10 and len(stored.segments) == 2 and stored.original_name == "labels.csv"
    assert client.get(f"/api/analyses/{a.pk}/agreement/").json()["accuracy"] == 0.9

    # face 2 throughout: all neutral; the new file replaces the old
    res = client.post(f"/api/analyses/{a.pk}/labels/", {"file": csv_file("frame,label,face_id\n0,neutral,2\n1,happy,2\n")},
                      format="multipart")
    assert res.json()["n"] == 2 and res.json()["accuracy"] == 0.5 and HandLabels.objects.count() == 1


def test_a_rerun_is_compared_again(researcher):
    a = _labelled_analysis(researcher)
    client = api_for(researcher)
    client.post(f"/api/analyses/{a.pk}/labels/", {"file": csv_file("frame,label\n0,happy\n")}, format="multipart")
    a.results.filter(frame=0, face_id=1).update(dominant="sad")
    Analysis.objects.filter(pk=a.pk).update(run_id="00000000-0000-0000-0000-000000000001")
    assert client.get(f"/api/analyses/{a.pk}/agreement/").json()["accuracy"] == 0


def test_bad_label_files_are_a_400_naming_lines(researcher):
    a = _labelled_analysis(researcher)
    res = api_for(researcher).post(f"/api/analyses/{a.pk}/labels/",
                                   {"file": csv_file("start,end,label\n0,1,happy\n2,1,sad\n")}, format="multipart")
    assert res.status_code == 400 and res.json() == {"file": ["line 3: end 1 is not after start 2"]}
    assert not HandLabels.objects.exists()


def test_who_may_upload_labels():
    data = build_study()
    url = f"/api/analyses/{data['p1a'].pk}/labels/"
    body = {"file": csv_file("frame,label\n0,happy\n")}
    assert APIClient().post(url, body, format="multipart").status_code == 401
    viewer = api_for(member(data["study"], "vera", "viewer"))
    res = viewer.post(url, {"file": csv_file("frame,label\n0,happy\n")}, format="multipart")
    assert res.status_code == 403 and "editor" in res.json()["detail"]
    assert viewer.get(f"/api/analyses/{data['p1a'].pk}/agreement/").status_code == 404   # none yet
    editor = member(data["study"], "eddie", "editor")
    res = api_for(editor).post(url, {"file": csv_file("frame,label\n0,happy\n")}, format="multipart")
    assert res.status_code == 200 and res.json()["n"] == 1
    assert viewer.get(f"/api/analyses/{data['p1a'].pk}/agreement/").json()["n"] == 1
    outsider = member(data["owner"].owned_studies.create(name="other"), "otto", "editor")
    assert api_for(outsider).post(url, {"file": csv_file("frame,label\n0,happy\n")},
                                  format="multipart").status_code == 404


def test_labels_wait_for_the_analysis_to_finish(researcher):
    a = make_analysis(researcher, status=Analysis.Status.RUNNING)
    res = api_for(researcher).post(f"/api/analyses/{a.pk}/labels/", {"file": csv_file("frame,label\n0,happy\n")},
                                   format="multipart")
    assert res.status_code == 409 and "still queued or running" in res.json()["detail"]


def test_the_page_form_posts_and_goes_back_to_the_analysis(client, researcher):
    client.force_login(researcher)
    a = _labelled_analysis(researcher)
    url = reverse("research:labels", args=[a.pk])
    res = client.post(url, {"file": csv_file("start,end,label\n0,1,HAPPY\n")}, follow=True)
    assert res.redirect_chain[-1][0] == reverse("research:detail", args=[a.pk]) + "#agreement"
    text = res.content.decode()
    assert "10 results compared, accuracy 50.0%" in text
    res = client.post(url, {"file": csv_file("start,end,label\n0,1,joy\n", "mine.csv")}, follow=True)
    text = res.content.decode()
    # the refusal is in the card the page jumps to, which says the figures there are the earlier file's
    card = text[text.index('id="agreement"'):]
    refusal = card[card.index('id="labels-refused"'):card.index("</p>", card.index('id="labels-refused"'))]
    assert f"mine.csv was not used: line 2: &quot;joy&quot; is not one of {ALL}" in refusal
    assert "The figures below are still those of" in refusal
    assert "was not used" not in text[:text.index('id="agreement"')]
    assert HandLabels.objects.get(analysis=a).agreement["accuracy"] == 0.5      # the earlier file stands


def test_the_analysis_page_shows_the_figures_and_the_heat_map(client, researcher):
    a = _labelled_analysis(researcher)
    client.force_login(researcher)
    page = client.get(reverse("research:detail", args=[a.pk])).content.decode()
    assert 'id="agreement-none"' in page and 'id="labels-form"' in page
    client.post(reverse("research:labels", args=[a.pk]), {"file": csv_file("start,end,label\n0,0.4,happy\n0.4,1,sad\n")})
    page = client.get(reverse("research:detail", args=[a.pk])).content.decode()
    assert '<td id="agreement-n">10</td>' in page and '<td id="agreement-accuracy">90.0%</td>' in page
    # hand sad row: 1 of 6 we call happy, 5 of 6 sad (the diagonal, dark)
    assert 'style="--share: 0.167" title="hand sad, ours happy: 1">1</td>' in page
    assert 'class="diagonal dark"\n                style="--share: 0.833" title="hand sad, ours sad: 5">5</td>' in page
    assert "<script>" not in page                       # the CSP allows no inline script


def test_a_viewer_sees_the_figures_but_no_form(client):
    data = build_study()
    client.force_login(member(data["study"], "vera", "viewer"))
    page = client.get(reverse("research:detail", args=[data["p1a"].pk])).content.decode()
    assert 'id="agreement"' in page and 'id="labels-form"' not in page
    res = client.post(reverse("research:labels", args=[data["p1a"].pk]), {"file": csv_file("frame,label\n0,sad\n")},
                      follow=True)
    assert "not change it" in res.content.decode() and not HandLabels.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_uploading_labels_on_the_analysis_page_under_the_content_security_policy(daphne_url, playwright_driver,
                                                                                  researcher, tmp_path):
    from tests import servers

    a = _labelled_analysis(researcher)
    labels = tmp_path / "coded.csv"
    labels.write_text("start,end,label\n0,0.4,happy\n0.4,1,sad\n")
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"frame,label\n" + b"1,sad\n" * (MAX_BYTES // 6 + 1))
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    refused = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        servers.sign_in_at(page, daphne_url, f"/analyses/{a.pk}/", "ada", "a-long-password-1")
        page.wait_for_selector("#labels-form")
        page.set_input_files("#labels-form input[type=file]", str(huge))
        page.wait_for_selector("#labels-error:not([hidden])")     # refused before it is sent
        assert "at most 5 MB" in page.inner_text("#labels-error")
        page.set_input_files("#labels-form input[type=file]", str(labels))
        page.click("#labels-form button")
        page.wait_for_selector("#agreement-figures")
        assert page.inner_text("#agreement-accuracy") == "90.0%"
        assert "10 results compared" in page.inner_text(".messages")
        servers.ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#agreement").screenshot(path=str(servers.ARTIFACTS / "agreement.png"))
        page.set_viewport_size({"width": 375, "height": 800})
        page.locator("#agreement").screenshot(path=str(servers.ARTIFACTS / "agreement-375.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert refused == []
    finally:
        browser.close()
