"""The API's limits per client: wrong tokens counted per address, and request rates per address or user,
in the same shared "limits" cache as the sign-in counts (throttle.py says where counts live and who a
client is)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .refusals import wait_words
from .throttle import TOKEN_FAILURES, limits_cache, request_client


class ThrottledTokenAuthentication(TokenAuthentication):
    """Token authentication that counts wrong tokens per address and answers them 429 past the limit.

    A valid token is accepted whatever the count: refusing it too let one script with a stale token
    behind a shared address (an office, a NAT) lock every other user there out for the window. Guessing
    stays locked: past the limit each wrong token is a 429 and is counted, so the window never ends for
    one who keeps guessing; and a token is 160 random bits, which no rate of guesses finds."""

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        client = request_client(request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            wait = TOKEN_FAILURES.wait(client)          # over the limit before this one: the 21st on is a 429
            TOKEN_FAILURES.hit(client)
            if wait:
                raise exceptions.Throttled(wait, detail=f"Too many wrong API tokens from your address; try again "
                                                        f"in {wait_words(wait)}.")
            raise


class _LimitsCache:
    @property
    def cache(self):
        return limits_cache()

    def get_ident(self, request):
        return request_client(request)


class AnonRate(_LimitsCache, AnonRateThrottle):
    """Requests per address without an account (DEFAULT_THROTTLE_RATES["anon"])."""


class UserRate(_LimitsCache, UserRateThrottle):
    """Requests per signed-in user or token (DEFAULT_THROTTLE_RATES["user"])."""
