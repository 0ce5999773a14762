import os
from typing import Optional
from urllib.parse import urlsplit

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fersite.settings")
# Build the Django app first: it sets up the app registry that consumers' imports rely on.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.conf import settings  # noqa: E402
from django.http.request import validate_host  # noqa: E402

from emotion.live.routing import websocket_urlpatterns as live_ws  # noqa: E402
from emotion.research.routing import websocket_urlpatterns as research_ws  # noqa: E402
from emotion.stimuli.routing import websocket_urlpatterns as stimuli_ws  # noqa: E402

from emotion.web.limits import RequestSizeLimit, guard_daphne  # noqa: E402

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> Optional[tuple]:
    """(scheme, host, port) of an origin such as https://fer.example.org:8443, or None."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _scheme(scope, headers: dict) -> str:
    """http or https, as Django's request.is_secure() decides it: from the TLS proxy's header when
    SECURE_PROXY_SSL_HEADER is set and the header came (daphne puts no scheme in a WebSocket's scope),
    else from the scope."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        value = headers.get(name.removeprefix("HTTP_").lower().replace("_", "-").encode())
        if value is not None:
            return "https" if value.decode("latin1").split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def origin_allowed(scope) -> bool:
    """A socket is opened only by this site's own pages: the Origin header's scheme, host and port are the
    request's own (the scheme as the TLS proxy received it, see _scheme), or one of CSRF_TRUSTED_ORIGINS;
    and its host is in ALLOWED_HOSTS. No Origin, no socket. A client that sends no Host header (not a
    browser) is checked on the Origin's host alone."""
    headers = dict(scope.get("headers", []))
    raw = headers.get(b"origin")
    origin = _origin(raw.decode("latin1")) if raw else None
    if origin is None:
        return False
    if origin in {_origin(o) for o in settings.CSRF_TRUSTED_ORIGINS}:
        return True
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    if not validate_host(f"[{origin[1]}]" if ":" in origin[1] else origin[1], allowed_hosts):
        return False
    host = headers.get(b"host")
    if host is None:
        return True
    return origin == _origin(f"{_scheme(scope, headers)}://{host.decode('latin1')}")


class SameOriginValidator:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


# Under daphne, bodies are refused from their headers before daphne reads them (emotion/web/limits.py).
guard_daphne()

application = ProtocolTypeRouter({
    "http": RequestSizeLimit(django_asgi_app),
    # Browsers send an Origin header: a page from another site, port or scheme cannot open our sockets.
    "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(live_ws + research_ws + stimuli_ws))),
})
