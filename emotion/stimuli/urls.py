"""Stimulus studies' pages (under /stimuli/) and API (under /api/), gathered from the modules that
own them: stimuli and markers, invitation links and remote sessions, group time courses."""

from .course import urls as course_urls
from .library import urls as stimulus_urls
from .sessions import urls as session_urls

urlpatterns = stimulus_urls.urlpatterns + session_urls.urlpatterns + course_urls.urlpatterns
api_urlpatterns = stimulus_urls.api_urlpatterns + session_urls.api_urlpatterns + course_urls.api_urlpatterns
