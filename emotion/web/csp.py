"""A Content-Security-Policy header on every response.

Scripts come only from this site's own files (no inline script, no eval, no inline event handler);
`<script type="application/json">` data blocks (`json_script`) are data and stay allowed. Styles may
be inline (the pages set a few style attributes and one custom property from the server): a style
cannot run code. Sockets may go to this very host only, over ws: or wss: as the page came. Nothing
may frame the site, and forms post only here.

Django 5.2 has no CSP of its own (6.0 adds one), and django-csp would be a dependency for one header,
so this is a few lines. A response that already carries the header keeps it.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import DisallowedHost
from django.utils.decorators import sync_and_async_middleware

HEADER = "Content-Security-Policy"
BASE = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def policy(request) -> str:
    """The policy for one response: the base, and this host's WebSocket origin for connect-src ('self'
    covers ws: and wss: in CSP level 3 only, which not every browser implements)."""
    try:
        host = request.get_host()
    except DisallowedHost:          # the 400 page for a host not allowed: no socket to allow
        return BASE + "; connect-src 'self'"
    ws = "wss" if request.is_secure() else "ws"
    return BASE + f"; connect-src 'self' {ws}://{host}"


@sync_and_async_middleware
def ContentSecurityPolicyMiddleware(get_response):  # noqa: N802 (named like Django's middleware classes)
    if iscoroutinefunction(get_response):
        async def middleware(request):
            response = await get_response(request)
            if HEADER not in response:
                response[HEADER] = policy(request)
            return response
    else:
        def middleware(request):
            response = get_response(request)
            if HEADER not in response:
                response[HEADER] = policy(request)
            return response
    return middleware
