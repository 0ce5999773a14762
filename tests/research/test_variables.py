"""Participant variables: defining them, their values checked against their kind, the wide CSV both ways
(all or nothing, unknown participants created and listed), and who may read and change them."""

import io

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from emotion.research.models import Participant, ParticipantValue
from tests.research.conftest import api_for
from tests.research.study_data import build_design, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def design():
    data = build_design()
    data["url"] = f"/api/studies/{data['study'].pk}"
    data["client"] = api_for(data["owner"])
    return data


def values(study) -> dict:
    return {(v.participant.code, v.variable.name): v.value
            for v in ParticipantValue.objects.filter(participant__study=study).select_related("participant", "variable")}


def send(client, url, text: str):
    return client.post(f"{url}/variables.csv", {"file": SimpleUploadedFile("vars.csv", text.encode())},
                       format="multipart")


def test_defining_variables(design):
    client, url = design["client"], design["url"]
    res = client.post(f"{url}/variables/", {"name": "handedness", "kind": "category"}, format="json")
    assert res.status_code == 201 and res.json() == {"name": "handedness", "kind": "category"}
    assert [v["name"] for v in client.get(f"{url}/variables/").json()] == ["age", "group", "handedness"]
    for name, kind, field, words in (("Age", "number", "name", "already has"), ("2nd", "number", "name", "a letter"),
                                     ("value", "number", "name", "column of the exports"),
                                     ("score", "text", "kind", "category, number")):
        res = client.post(f"{url}/variables/", {"name": name, "kind": kind}, format="json")
        assert res.status_code == 400 and words in res.json()[field][0], name
    assert client.delete(f"{url}/variables/handedness/").status_code == 204
    assert client.delete(f"{url}/variables/handedness/").status_code == 404


def test_a_participants_values_fit_their_variables_kind(design):
    client, url, study = design["client"], design["url"], design["study"]
    res = client.post(f"{url}/participant-values/", {"participant": "P6", "values": {"age": "41.5", "group": "x"}},
                      format="json")
    assert res.status_code == 200 and res.json() == {"participant": "P6", "values": {"age": 41.5, "group": "x"}}
    for age, words in (("12,5", "decimal point"), ("forty", "not a number"), ("inf", "not a number")):
        res = client.post(f"{url}/participant-values/", {"participant": "P6", "values": {"age": age}}, format="json")
        assert res.status_code == 400 and words in res.json()["values"][0], age
    assert values(study)["P6", "age"] == "41.5"                   # refused changes changed nothing
    res = client.post(f"{url}/participant-values/", {"participant": "P6", "values": {"height": 3}}, format="json")
    assert res.status_code == 400 and "no variable “height”" in res.json()["values"][0]
    # null removes a value; a new code is a new participant
    client.post(f"{url}/participant-values/", {"participant": "P6", "values": {"age": None}}, format="json")
    client.post(f"{url}/participant-values/", {"participant": "N1", "values": {"age": 30}}, format="json")
    listed = client.get(f"{url}/participant-values/").json()
    assert listed["P6"] == {"group": "x"} and listed["N1"] == {"age": 30} and listed["P5"]["age"] == 19.5


def test_csv_import_sets_removes_and_creates(design):
    client, url, study = design["client"], design["url"], design["study"]
    # a spreadsheet's byte-order mark, columns in any order and case, an empty cell, a new participant
    text = "\ufeffparticipant,Group,age\nP1,y,22\nP2,x,\nN7,x,50\n"
    res = send(client, url, text)
    assert res.status_code == 200
    assert res.json() == {"participants": 3, "created": ["N7"], "values_set": 5, "values_removed": 1}
    stored = values(study)
    assert (stored["P1", "group"], stored["P1", "age"], stored["N7", "age"]) == ("y", "22", "50")
    assert ("P2", "age") not in stored and stored["P3", "age"] == "25"      # rows not in the file: unchanged
    assert Participant.objects.filter(study=study, code="N7").exists()


def test_a_bad_csv_stores_nothing_and_says_every_problem_by_line(design):
    client, url, study = design["client"], design["url"], design["study"]
    before = values(study)
    res = send(client, url, "participant,age\nP1,30\nP2,3,5\nNEW,thirty\nP1,31\n")
    assert res.status_code == 400
    assert res.json()["file"] == ["line 3: 3 cells, the header has 2.", 'line 4: age: "thirty" is not a number.',
                                  "line 5: participant P1 is already on line 2."]
    assert values(study) == before and not Participant.objects.filter(study=study, code="NEW").exists()
    res = send(client, url, "participant,height\nP1,170\n")
    assert res.status_code == 400 and 'no variable "height"' in res.json()["file"][0]
    assert send(client, url, "code,age\n").json()["file"] == ['line 1: the first column must be "participant".']
    assert "not UTF-8" in client.post(f"{url}/variables.csv", {"file": SimpleUploadedFile(
        "v.csv", "participant,group\nP1,\xe9\n".encode("latin-1"))}, format="multipart").json()["file"][0]


def test_the_export_reads_into_pandas_and_imports_back_unchanged(design):
    client, url, study = design["client"], design["url"], design["study"]
    res = client.get(f"{url}/variables.csv")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(res.content.decode()))
    assert list(df.columns) == ["participant", "age", "group"] and len(df) == 6
    assert str(df["age"].dtype) == "float64" and df.set_index("participant")["age"]["P5"] == 19.5
    assert res.content.decode().splitlines()[1] == "P1,21,x"     # whole numbers written whole
    before = values(study)
    assert send(client, url, res.content.decode()).status_code == 200
    assert values(study) == before


def test_who_may_read_and_change_variables(design):
    study, url = design["study"], design["url"]
    viewer, editor = api_for(member(study, "vera", "viewer")), api_for(member(study, "ed", "editor"))
    outsider = api_for(member(design["owner"].owned_studies.create(name="other"), "otto", "editor"))
    reads = ("variables/", "variables.csv", "participant-values/")
    for client in (viewer, editor):
        assert all(client.get(f"{url}/{r}").status_code == 200 for r in reads)
    assert all(outsider.get(f"{url}/{r}").status_code == 404 for r in reads)
    assert all(APIClient().get(f"{url}/{r}").status_code == 401 for r in reads)
    changes = (lambda c: c.post(f"{url}/participant-values/", {"participant": "P1", "values": {"age": 1}},
                                format="json"),
               lambda c: send(c, url, "participant,age\nP1,2\n"),
               lambda c: c.post(f"{url}/variables/", {"name": "hand", "kind": "category"}, format="json"),
               lambda c: c.delete(f"{url}/variables/age/"))
    for change in changes:
        assert change(viewer).status_code == 403
        assert "editor role" in change(viewer).json()["detail"]
        assert change(outsider).status_code == 404
    assert values(study)["P1", "age"] == "21"                     # nothing they sent was stored
    assert [change(editor).status_code for change in changes] == [200, 200, 201, 204]


def test_the_schema_and_the_docs_page_document_variables_and_statistics(design):
    client = design["client"]
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path, methods in (("/api/studies/{id}/variables/", {"get", "post"}), ("/api/studies/{id}/variables/{name}/",
                          {"delete"}), ("/api/studies/{id}/variables.csv", {"get", "post"}),
                          ("/api/studies/{id}/participant-values/", {"get", "post"}),
                          ("/api/studies/{id}/statistics/", {"get"}), ("/api/studies/{id}/participant-means.csv", {"get"})):
        assert methods <= set(paths.get(path, {})), path
    params = {p["name"] for p in paths["/api/studies/{id}/statistics/"]["get"]["parameters"]}
    assert {"baseline", "split", "filter"} <= params
    components = schema["components"]["schemas"]
    assert {"ci_low", "ci_high", "n"} <= set(components["GroupMean"]["properties"])
    assert {"test", "statistic", "df", "p", "effect_size", "effect_ci_low", "label"} <= set(components["Comparison"]["properties"])
    assert "created" in components["VariablesImported"]["properties"]
    docs = client.get("/api/docs/")                  # Swagger UI, drawn from that schema
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


# --- the study page -----------------------------------------------------------------------------------------

def test_the_study_page_lists_variables_and_lets_editors_define_and_import(design, client):
    study, page = design["study"], f"/analyses/studies/{design['study'].pk}/"
    editor, viewer = member(study, "ed", "editor"), member(study, "vera", "viewer")
    client.force_login(editor)
    html = client.get(page).content.decode()
    assert 'id="variables-import"' in html and 'id="variable-form"' in html
    assert '<option value="group:x">group = x</option>' in html          # the statistics' filter choices
    res = client.post(f"{page}variables", {"name": "hand", "kind": "category"}, follow=True)
    assert res.redirect_chain[-1][0].endswith("#variables") and "Added the category variable “hand”" in res.content.decode()
    upload = SimpleUploadedFile("v.csv", b"participant,hand,age\nP1,left,\nN2,right,44\n")
    res = client.post(f"{page}variables.csv", {"file": upload}, follow=True)
    assert "2 participants, 3 values set, 1 removed; new participants: N2." in res.content.decode()
    assert values(study)["N2", "hand"] == "right" and ("P1", "age") not in values(study)
    bad = client.post(f"{page}variables.csv", {"file": SimpleUploadedFile("v.csv", b"participant,age\nP1,old\n")},
                      follow=True)
    assert 'nothing was changed: line 2: age: &quot;old&quot; is not a number.' in bad.content.decode()
    client.force_login(viewer)
    html = client.get(page).content.decode()
    assert 'id="variables-import"' not in html and 'id="download-variables"' in html
    assert client.post(f"{page}variables", {"name": "x2", "kind": "number"}).status_code == 403
    assert client.post(f"{page}variables.csv", {"file": SimpleUploadedFile("v.csv", b"participant,age\nP1,5\n")}
                       ).status_code == 403
    client.force_login(member(design["owner"].owned_studies.create(name="other"), "otto", "editor"))
    assert client.post(f"{page}variables", {"name": "x3", "kind": "number"}).status_code == 404
    assert not study.variables.filter(name__in=["x2", "x3"]).exists() and values(study)["N2", "hand"] == "right"
