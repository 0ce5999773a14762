"""Invitation links and remote sessions: the researcher's links page and the participant's page (under
/stimuli/), the links and recordings API (under /api/). The session's socket: routing.py."""

from django.urls import path, re_path

from . import api as api_sessions
from . import link_views, participant_views

KEY = r"(?P<key>[A-Za-z0-9_-]{1,100})"      # secrets.token_urlsafe's alphabet (links.py)

urlpatterns = [
    path("<int:pk>/links/", link_views.links_page, name="stimuli-links"),
    re_path(rf"^take/{KEY}/$", participant_views.take, name="stimuli-take"),
    re_path(rf"^take/{KEY}/media$", participant_views.media, name="stimuli-take-media"),
]

api_urlpatterns = [
    re_path(r"^stimuli/(?P<pk>[0-9]+)/links/?$", api_sessions.StimulusLinks.as_view(), name="api-stimulus-links"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/links/(?P<link_id>[0-9]+)/revoke/?$", api_sessions.LinkRevoke.as_view(),
            name="api-stimulus-link-revoke"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/recordings/?$", api_sessions.StimulusRecordings.as_view(),
            name="api-stimulus-recordings"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/recordings/(?P<rec_id>[0-9]+)/?$", api_sessions.StimulusRecording.as_view(),
            name="api-stimulus-recording"),
    re_path(r"^stimuli/(?P<pk>[0-9]+)/recordings/(?P<rec_id>[0-9]+)/frames\.(?P<fmt>csv|json)$",
            api_sessions.RecordingFrames.as_view(), name="api-stimulus-recording-frames"),
]
