"""A study with its four kinds of visitor and stimuli made from the shared media, through the service the
pages and the API use (so each is probed as an upload is)."""

import pytest
from django.contrib.auth.models import User

from emotion.research.models import Study
from emotion.stimuli.library import services
from tests.conftest import CLIP, MEDIA, need
from tests.research import conftest as research_fixtures
from tests.research.conftest import upload
from tests.research.study_data import member

PASSWORD = "a-long-password-3"
bad_media = research_fixtures.bad_media          # the broken files the analysis upload tests use


@pytest.fixture
def people(db) -> dict:
    """owner, editor, viewer of one study, and an outsider (an editor of another study)."""
    owner = User.objects.create_user("olga", password=PASSWORD)
    study = Study.objects.create(owner=owner, name="Adverts")
    other = Study.objects.create(owner=owner, name="Elsewhere")
    return {"study": study, "owner": owner, "editor": member(study, "eddie", "editor"),
            "viewer": member(study, "vic", "viewer"), "outsider": member(other, "otto", "editor")}


@pytest.fixture
def video(people):
    return services.create_stimulus(people["owner"], people["study"], upload(need(CLIP)), "Hamilton",
                                    "You will watch a short clip.")


@pytest.fixture
def image(people):
    return services.create_stimulus(people["owner"], people["study"], upload(need(MEDIA / "two_people.jpg")),
                                    image_seconds="4.5")
