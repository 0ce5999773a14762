"""Sign-in and API-token failures are throttled per address (429 with the wait), the API has request
rates, and passwords must pass Django's validators."""

import itertools
import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from emotion.web import api_throttle, throttle

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-7"
_addresses = itertools.count(1)


def fresh_address() -> str:
    """An address no other test of this run used: the counters live in Redis, beyond one test."""
    n = next(_addresses)
    return f"10.200.{(n >> 8) & 255}.{n & 255}"


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD)


def sign_in(path: str, username: str, password: str, address: str):
    return Client().post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_ten_wrong_passwords_lock_that_name_from_that_address(ada, settings, path):
    settings.FER_LOGIN_FAILURES = 10
    address, elsewhere = fresh_address(), fresh_address()
    ada.is_staff = True                      # the admin's form checks staff after the password
    ada.save()
    started = time.monotonic()
    answers = [sign_in(path, "ada", "wrong-password-x", address).status_code for _ in range(10)]
    assert answers == [200] * 10             # the form again, saying the password did not match
    locked = sign_in(path, "ada", PASSWORD, address)            # even the right password now waits
    assert locked.status_code == 429
    wait = int(locked["Retry-After"])
    # the 10 minutes run from the first failure: a busy machine's slow password hashes shorten the wait
    assert 600 - (time.monotonic() - started) - 2 <= wait <= 600
    body = locked.content.decode()
    assert "Too many failed sign-ins" in body and "try again in 10 min" in body
    # The same name from another address, and another name from this one, still sign in.
    assert sign_in(path, "ada", PASSWORD, elsewhere).status_code == 302
    assert sign_in(path, "bob", "wrong-password-x", address).status_code == 200


def test_a_locked_sign_in_through_xhr_gets_json(ada, settings):
    settings.FER_LOGIN_FAILURES = 2
    address = fresh_address()
    for _ in range(2):
        sign_in("/accounts/login/", "ada", "nope-nope-nope", address)
    res = Client().post("/accounts/login/", {"username": "ADA ", "password": PASSWORD}, REMOTE_ADDR=address,
                        headers={"X-Requested-With": "XMLHttpRequest"})
    assert res.status_code == 429 and "try again in" in res.json()["detail"]     # names count as typed, any case


def test_a_successful_sign_in_clears_the_count(ada, settings):
    settings.FER_LOGIN_FAILURES = 3
    address = fresh_address()
    for _ in range(2):
        assert sign_in("/accounts/login/", "ada", "wrong-password-x", address).status_code == 200
    assert sign_in("/accounts/login/", "ada", PASSWORD, address).status_code == 302
    for _ in range(2):                       # a fresh count: two more mistakes are still allowed
        assert sign_in("/accounts/login/", "ada", "wrong-password-x", address).status_code == 200
    assert sign_in("/accounts/login/", "ada", PASSWORD, address).status_code == 302


def test_many_names_from_one_address_lock_the_address(ada, settings):
    settings.FER_LOGIN_FAILURES_PER_IP = 5
    address = fresh_address()
    for i in range(5):
        assert sign_in("/accounts/login/", f"guess{i}", "wrong-password-x", address).status_code == 200
    assert sign_in("/accounts/login/", "ada", PASSWORD, address).status_code == 429


def test_wrong_api_tokens_lock_the_address_but_not_its_valid_tokens(ada, settings):
    """Issue 18: after 20 wrong tokens from an address, its valid tokens got 429 for 10 minutes too (one
    misconfigured script behind a shared address locked everyone's). Guessing stays locked."""
    settings.FER_TOKEN_FAILURES = 20
    address = fresh_address()
    good = Token.objects.create(user=ada).key
    api = APIClient(REMOTE_ADDR=address)
    started = time.monotonic()
    answers = [api.get("/api/analyses/", HTTP_AUTHORIZATION=f"Token {i:040x}").status_code for i in range(20)]
    assert answers == [401] * 20
    locked = api.get("/api/analyses/", HTTP_AUTHORIZATION=f"Token {21:040x}")
    assert locked.status_code == 429
    assert 600 - (time.monotonic() - started) - 2 <= int(locked["Retry-After"]) <= 600
    assert "Too many wrong API tokens" in locked.json()["detail"]
    assert api.get("/api/analyses/", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200
    assert api.get("/api/analyses/", HTTP_AUTHORIZATION=f"Token {22:040x}").status_code == 429   # still locked
    assert throttle.TOKEN_FAILURES.count(throttle.client_key(address)) == 22                      # and counted


def test_the_api_has_request_rates(ada, monkeypatch):
    monkeypatch.setattr(api_throttle.UserRate, "rate", "3/min", raising=False)
    throttle.limits_cache().delete(f"throttle_user_{ada.pk}")     # ids come back in each test's database
    api = APIClient(REMOTE_ADDR=fresh_address())
    api.force_authenticate(ada)
    answers = [api.get("/api/analyses/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert "throttled" in api.get("/api/analyses/").json()["detail"]


def test_the_api_rates_ignore_a_forwarded_for_header(monkeypatch):
    """Who a client is comes from the server (daphne --proxy-headers behind the proxy), never from a header
    the client can set: changing X-Forwarded-For does not give it a fresh count."""
    monkeypatch.setattr(api_throttle.AnonRate, "rate", "2/min", raising=False)
    address = fresh_address()
    answers = [Client().get("/api/schema/", REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code
               for i in range(3)]
    assert answers == [200, 200, 429]


@pytest.mark.parametrize("password, words", [("12345678901234", "entirely numeric"), ("password123", "too common"),
                                             ("short-pw", "too short")])
def test_weak_passwords_are_refused(password, words):
    with pytest.raises(ValidationError) as info:
        validate_password(password)
    assert words in " ".join(info.value.messages)
    validate_password("correct-horse-battery-staple")


@pytest.mark.django_db
def test_password_reset_is_not_offered_without_a_mail_server(client, ada):
    """It would try to send mail through a server that is not there, unthrottled, a traceback each time."""
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.post("/accounts/password_reset/", {"email": "a@example.org"}).status_code == 404
    assert client.get("/accounts/login/").status_code == 200
    client.force_login(ada)
    assert client.get("/accounts/password_change/").status_code == 200


@pytest.mark.parametrize("path, field", [("/account/data/delete/", "password"),
                                         ("/accounts/password_change/", "old_password"),
                                         ("/admin/password_change/", "old_password")])
def test_wrong_passwords_of_a_signed_in_user_count_with_sign_in_failures(ada, settings, path, field):
    """Issue 18: the password asked again by "delete my account" and the password change forms could be
    guessed without limit by whoever held a session. Now they count with that name's sign-in failures."""
    settings.FER_LOGIN_FAILURES = 3
    address = fresh_address()
    ada.is_staff = path.startswith("/admin/")        # the admin's form is for staff
    ada.save()
    client = Client(REMOTE_ADDR=address)
    client.force_login(ada)
    new = {"new_password1": "another-long-password-8", "new_password2": "another-long-password-8"}
    answers = [client.post(path, {field: f"wrong-password-{i}", **new}).status_code for i in range(3)]
    assert 429 not in answers and 302 not in answers
    locked = client.post(path, {field: PASSWORD, **new})               # the right password now waits
    assert locked.status_code == 429 and 0 < int(locked["Retry-After"]) <= 600
    assert "Too many" in locked.content.decode()
    assert sign_in("/accounts/login/", "ada", PASSWORD, address).status_code == 429     # one count with sign-in
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD)                                  # nothing was changed or deleted


def test_sign_in_failures_lock_the_password_forms_too(ada, settings):
    settings.FER_LOGIN_FAILURES = 2
    address = fresh_address()
    for _ in range(2):
        sign_in("/accounts/login/", "ada", "wrong-password-x", address)
    client = Client(REMOTE_ADDR=address)
    client.force_login(ada)
    assert client.post("/account/data/delete/", {"password": PASSWORD}).status_code == 429
    assert type(ada).objects.filter(pk=ada.pk).exists()
