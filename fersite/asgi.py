import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fersite.settings")
# Build the Django app first: it sets up the app registry that consumers' imports rely on.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from emotion.live.routing import websocket_urlpatterns as live_ws  # noqa: E402
from emotion.research.routing import websocket_urlpatterns as research_ws  # noqa: E402

from fersite.limits import UploadSizeLimit  # noqa: E402

application = ProtocolTypeRouter({
    "http": UploadSizeLimit(django_asgi_app),
    # Browsers send an Origin header: a page from another site cannot open our sockets.
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(live_ws + research_ws))),
})
