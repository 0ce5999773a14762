"""Limits per client: sign-in and API-token failures, the API's request rates, and the counters they
(and the live socket's stored-session cap) share.

Where the counts live
    In the "limits" cache (settings.CACHES): Redis, so every daphne process sees the same counts and
    they survive a restart of one. When Redis cannot be reached the cache answers from this process's
    memory instead (and tries Redis again a few seconds later): limits then hold per process, and a
    request is never failed because its counter could not be written.

Who a client is
    Its address as the ASGI server saw it (REMOTE_ADDR, scope["client"]). Behind the TLS proxy daphne
    runs with --proxy-headers and fills it from X-Forwarded-For; X-Forwarded-For is never read here,
    so a client cannot choose its own identity. An IPv6 client counts per /64, the block one
    subscriber usually holds.

Sign-in (/accounts/login/ and the admin's): after FER_LOGIN_FAILURES failures for one address and user
name, or FER_LOGIN_FAILURES_PER_IP for one address whatever the names, within FER_LOGIN_WINDOW_SECONDS,
that address's sign-ins (right password or not) are answered 429 with the wait, until the window that
began with its first failure ends. A successful sign-in clears its (address, name) count. A wrong
current password on the password change forms or "delete my account" counts as a failed sign-in of the
signed-in user's name, and those forms are locked with the sign-in.
API tokens: past FER_TOKEN_FAILURES wrong tokens from one address in the same window, its wrong tokens
are answered 429 likewise; its valid tokens are still accepted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from typing import Optional

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.dispatch import receiver
from django.urls import reverse

from .refusals import refusal, wait_words

log = logging.getLogger(__name__)
LIMITS_CACHE = "limits"


# --- the counters' store ------------------------------------------------------------------------------
class FallbackRedisCache(RedisCache):
    """Django's Redis cache that falls back to a per-process memory cache while Redis is unreachable."""

    RETRY_SECONDS = 5.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._local = LocMemCache(f"fer-limits-fallback-{id(self)}",
                                  {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 100_000}})
        self._down_until = 0.0

    def _call(self, name: str, *args, **kwargs):
        import redis

        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                self._down_until = time.monotonic() + self.RETRY_SECONDS
                log.warning("limits: Redis is unreachable (%s); counting in this process for %.0f s",
                            exc, self.RETRY_SECONDS)
        return getattr(self._local, name)(*args, **kwargs)

    @property
    def using_redis(self) -> bool:
        return time.monotonic() >= self._down_until

    def add(self, *a, **kw):
        return self._call("add", *a, **kw)

    def get(self, *a, **kw):
        return self._call("get", *a, **kw)

    def set(self, *a, **kw):
        return self._call("set", *a, **kw)

    def touch(self, *a, **kw):
        return self._call("touch", *a, **kw)

    def delete(self, *a, **kw):
        return self._call("delete", *a, **kw)

    def get_many(self, *a, **kw):
        return self._call("get_many", *a, **kw)

    def has_key(self, *a, **kw):
        return self._call("has_key", *a, **kw)

    def incr(self, *a, **kw):
        return self._call("incr", *a, **kw)

    def set_many(self, *a, **kw):
        return self._call("set_many", *a, **kw)

    def delete_many(self, *a, **kw):
        return self._call("delete_many", *a, **kw)


def limits_cache():
    return caches[LIMITS_CACHE]


# --- who the client is --------------------------------------------------------------------------------
def client_key(address: Optional[str]) -> str:
    """The identity limits count under: the address, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:        # ::ffff:1.2.3.4 is the IPv4 client 1.2.3.4
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def request_client(request) -> str:
    return client_key(request.META.get("REMOTE_ADDR"))


# --- fixed windows ------------------------------------------------------------------------------------
class Window:
    """At most ``limit`` events per identity in a window of ``seconds`` that starts with its first
    event. Counts are atomic in Redis (add, then incr)."""

    def __init__(self, name: str, limit, seconds):
        self.name, self._limit, self._seconds = name, limit, seconds

    @property
    def limit(self) -> int:
        return int(self._limit() if callable(self._limit) else self._limit)

    @property
    def seconds(self) -> float:
        return float(self._seconds() if callable(self._seconds) else self._seconds)

    def _keys(self, ident: str):
        digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return f"fer:{self.name}:{digest}:n", f"fer:{self.name}:{digest}:t"

    def count(self, ident: str) -> int:
        return int(limits_cache().get(self._keys(ident)[0], 0) or 0)

    def wait(self, ident: str, events: int = 1) -> int:
        """Seconds until ``ident`` may count ``events`` more; 0 when they fit now."""
        cache = limits_cache()
        n_key, t_key = self._keys(ident)
        if int(cache.get(n_key, 0) or 0) + events <= self.limit:
            return 0
        start = cache.get(t_key)
        left = self.seconds - (time.time() - start) if start else self.seconds
        return max(1, math.ceil(left))

    def hit(self, ident: str, events: int = 1) -> int:
        """Count ``events`` events; returns the count in the window, these included."""
        cache = limits_cache()
        n_key, t_key = self._keys(ident)
        timeout = math.ceil(self.seconds)
        cache.add(t_key, time.time(), timeout)
        cache.add(n_key, 0, timeout)
        try:
            return cache.incr(n_key, events)
        except ValueError:                  # expired between add and incr
            cache.set(n_key, events, timeout)
            return events

    def reset(self, ident: str) -> None:
        limits_cache().delete_many(list(self._keys(ident)))


def _setting(name: str, default):
    return lambda: getattr(settings, name, default)


LOGIN_PAIR = Window("login", _setting("FER_LOGIN_FAILURES", 10), _setting("FER_LOGIN_WINDOW_SECONDS", 600))
LOGIN_ADDRESS = Window("login-ip", _setting("FER_LOGIN_FAILURES_PER_IP", 50), _setting("FER_LOGIN_WINDOW_SECONDS", 600))
TOKEN_FAILURES = Window("token", _setting("FER_TOKEN_FAILURES", 20), _setting("FER_LOGIN_WINDOW_SECONDS", 600))


def _pair(client: str, username: str) -> str:
    return f"{client}|{(username or '').strip().lower()[:150]}"


# --- sign-in, and passwords asked again of a signed-in user --------------------------------------------
_login_paths: Optional[frozenset] = None
_password_paths: Optional[frozenset] = None


def login_paths() -> frozenset:
    global _login_paths
    if _login_paths is None:
        _login_paths = frozenset({reverse("login"), reverse("admin:login")})
    return _login_paths


def password_paths() -> frozenset:
    """Forms that ask a signed-in user for their password again: whoever holds a session (a borrowed
    laptop, a stolen cookie) could guess it there, so they share the sign-in's count and lock."""
    global _password_paths
    if _password_paths is None:
        _password_paths = frozenset({reverse("password_change"), reverse("admin:password_change"),
                                     reverse("privacy:delete")})
    return _password_paths


def login_wait(client: str, username: str) -> int:
    return max(LOGIN_PAIR.wait(_pair(client, username)), LOGIN_ADDRESS.wait(client))


def _checked_name(request) -> Optional[str]:
    """The user name whose password this POST checks, or None when it checks none."""
    if request.method != "POST":
        return None
    if request.path_info in login_paths():
        return request.POST.get("username", "")
    if request.path_info in password_paths() and request.user.is_authenticated:
        return request.user.get_username()
    return None


class LoginThrottleMiddleware:
    """Answers a POST that checks a password 429 before the password is checked while its client (and
    name) is locked out; counts a wrong current password on the password change forms."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _checked_name(request)
        if name is not None:
            wait = login_wait(request_client(request), name)
            if wait:
                return refusal(request, 429, "Too many failed sign-ins",
                               f"Too many failed sign-ins from your address; try again in {wait_words(wait)}.",
                               headers={"Retry-After": str(wait)})
        response = self.get_response(request)
        if name is not None and _old_password_refused(response):
            wrong_password(request)
        return response


def _old_password_refused(response) -> bool:
    """Whether Django's password change view (the site's or the admin's) refused the current password:
    its page comes back with the form, whose errors name the field. Django's form sends no signal."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    return form is not None and "old_password" in form.errors


def wrong_password(request) -> None:
    """Count a wrong password typed by the signed-in user as a failed sign-in of their name."""
    _count(request_client(request), request.user.get_username())


@receiver(user_login_failed, dispatch_uid="fer-login-failed")
def _count_failure(sender, credentials=None, request=None, **kwargs):
    if request is None:                     # authenticate() called outside a request (a shell, a test)
        return
    _count(request_client(request), (credentials or {}).get("username", ""))


def _count(client: str, username: str) -> None:
    LOGIN_PAIR.hit(_pair(client, username))
    LOGIN_ADDRESS.hit(client)


@receiver(user_logged_in, dispatch_uid="fer-logged-in")
def _clear_failures(sender, request=None, user=None, **kwargs):
    if request is not None and user is not None:
        LOGIN_PAIR.reset(_pair(request_client(request), user.get_username()))
