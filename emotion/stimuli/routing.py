from django.urls import re_path

from .sessions.consumer import RemoteSessionConsumer

# A participant's remote session streams its frames here (see sessions/urls.py for its pages); the key
# is an invitation link's (links.py), in the URL-safe alphabet of secrets.token_urlsafe.
websocket_urlpatterns = [re_path(r"^ws/stimuli/take/(?P<key>[A-Za-z0-9_-]{1,100})/$", RemoteSessionConsumer.as_asgi())]
