"""The production profile (DEBUG off, the TLS-proxy settings, check --deploy, the Content-Security-Policy),
request bodies refused from their headers by the real daphne, slow clients cut off, the socket origin
check (scheme, host and port) and the admin's links to stored media."""

import json
import os
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.utils import get_random_secret_key
from django.test import override_settings
from django.utils import timezone

from emotion.live.models import LiveSession
from emotion.research.analyses import services
from emotion.research.analyses.runner import run_analysis
from emotion.research.models import Analysis
from tests import servers
from tests.conftest import MEDIA, need
from tests.research.conftest import upload

ROOT = servers.ROOT
PASSWORD = "a-long-password-9"
# Variables of the production profile: a child process gets none of them unless a test says so.
PROFILE_VARS = ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
                "FER_BEHIND_TLS_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                "SECURE_HSTS_PRELOAD")


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARS}
    env.update(extra)
    return env


def python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


# --- the production profile ---------------------------------------------------------------------------

def test_check_deploy_passes_with_the_production_variables():
    key = get_random_secret_key()
    assert len(key) == 50
    prod = dict(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key, DJANGO_ALLOWED_HOSTS="fer.example.org",
                CSRF_TRUSTED_ORIGINS="https://fer.example.org", FER_BEHIND_TLS_PROXY="1")
    cmd = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    out = subprocess.run(cmd, cwd=ROOT, env=clean_env(**prod), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    # Without the TLS switch the same check fails on what the switch turns on: the test has teeth.
    prod.pop("FER_BEHIND_TLS_PROXY")
    out = subprocess.run(cmd, cwd=ROOT, env=clean_env(**prod), capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in out.stderr + out.stdout


SHOW_SETTINGS = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
                 "'debug': s.DEBUG, 'key': s.SECRET_KEY, 'proxy': s.SECURE_PROXY_SSL_HEADER, 'session_secure': "
                 "s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS, "
                 "'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'redirect': s.SECURE_SSL_REDIRECT, "
                 "'trusted': s.CSRF_TRUSTED_ORIGINS, 'middleware': s.MIDDLEWARE}))")


def settings_with(**env) -> dict:
    out = python(SHOW_SETTINGS, clean_env(DJANGO_SETTINGS_MODULE="fersite.settings", **env))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_debug_is_off_unless_asked_and_the_kept_key_is_used():
    s = settings_with()
    assert s["debug"] is False and s["proxy"] is None and not s["session_secure"] and not s["hsts"]
    key_file = ROOT / "var" / "secret_key"      # made by scripts/setup.sh (run.sh, test.sh) when no key is given
    assert key_file.is_file(), "run scripts/setup.sh: it keeps the secret key in var/secret_key"
    assert s["key"] == key_file.read_text().strip() and len(s["key"]) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert settings_with(DJANGO_DEBUG="1")["debug"] is True
    assert settings_with(DJANGO_SECRET_KEY="k" * 50)["key"] == "k" * 50
    security = s["middleware"].index("django.middleware.security.SecurityMiddleware")
    assert s["middleware"].index("emotion.web.csp.ContentSecurityPolicyMiddleware") == security + 1


def test_the_tls_proxy_switch_and_its_variables():
    s = settings_with(FER_BEHIND_TLS_PROXY="1", CSRF_TRUSTED_ORIGINS="https://fer.example.org, https://b.example.org")
    assert s["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["session_secure"] and s["csrf_secure"] and s["redirect"]
    assert s["hsts"] == 31_536_000 and s["subdomains"] is True
    assert s["trusted"] == ["https://fer.example.org", "https://b.example.org"]
    s = settings_with(FER_BEHIND_TLS_PROXY="1", SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
                      SECURE_SSL_REDIRECT="0")
    assert s["hsts"] == 600 and s["subdomains"] is False and s["redirect"] is False


ERROR_PAGES = """
import sys, types, django
django.setup()
from django.test import Client
from django.test.utils import override_settings
from django.urls import include, path

def boom(request):
    raise RuntimeError("boom")

urls = types.ModuleType("boom_urls")
urls.urlpatterns = [path("boom/", boom), path("", include("fersite.urls"))]
sys.modules["boom_urls"] = urls
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
with override_settings(ROOT_URLCONF="boom_urls"):
    for url in ("/boom/", "/no-such-page/"):
        res = client.get(url)
        print("=====", res.status_code)
        print(res.content.decode())
"""


@pytest.mark.parametrize("debug", ["", "1"], ids=["default", "debug-on"])
def test_error_pages_show_no_url_patterns_and_no_settings(debug):
    """The review's finding: the 404 page listed the URL patterns, the 500 page showed the settings with
    DATABASE_URL and REDIS_URL unmasked. With DEBUG left at its default both are plain pages."""
    env = clean_env(DJANGO_SETTINGS_MODULE="fersite.settings", REDIS_URL="redis://:redis-secret-pw@127.0.0.1:6379/0",
                    **({"DJANGO_DEBUG": debug} if debug else {}))
    out = python(ERROR_PAGES, env)
    assert out.returncode == 0, out.stderr
    pages = out.stdout.split("===== ")[1:]
    assert [p.split("\n", 1)[0] for p in pages] == ["500", "404"]
    server_error, not_found = pages
    leaks = [w for w in ("redis-secret-pw", "REDIS_URL", "Traceback", "SECRET_KEY") if w in server_error]
    patterns = [w for w in ("URLconf", "admin/", "api/schema/", "analyses/") if w in not_found]
    if debug:      # the control: DEBUG on shows both, so these checks would catch them
        assert leaks and patterns
    else:
        assert not leaks and not patterns


# --- Content-Security-Policy ------------------------------------------------------------------------------

class ScriptAudit(HTMLParser):
    """Collects what a page would run inline: script elements without src (other than JSON data
    blocks), event-handler attributes and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.inline = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...>")
            url = (value or "").strip().lower()
            if name in ("href", "src", "action", "formaction") and url.startswith("javascript:"):
                self.inline.append(f"<{tag} {name}=javascript:...>")
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.inline.append("<script> without src")


def inline_scripts(html: str) -> list:
    audit = ScriptAudit()
    audit.feed(html)
    return audit.inline


def directives(header: str) -> dict:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("root", "root@example.org", PASSWORD)


def live_session(user) -> LiveSession:
    now = timezone.now()
    return LiveSession.objects.create(
        user=user, started_at=now - timezone.timedelta(seconds=2), ended_at=now, frames_received=20, frames_analysed=20,
        frames_with_faces=20, frames_reliable=20, avg_fps=10, avg_latency_ms=20, model_version="m@1",
        emotion_share={"happy": 1.0}, timeline=[{"t": 0.0, "p": [0, 0, 0, 1, 0, 0, 0], "r": 1},
                                                {"t": 0.5, "p": [0, 0, 0, 0.9, 0.1, 0, 0], "r": 1}])


def stored_analysis(owner) -> Analysis:
    name = default_storage.save("uploads/security-test.jpg", ContentFile(need(MEDIA / "obama.jpg").read_bytes()))
    return Analysis.objects.create(owner=owner, kind="image", original_name="obama.jpg", size_bytes=1,
                                   media_format="jpeg", file=name)


@pytest.mark.django_db
def test_every_page_has_the_policy_and_no_inline_script(client, staff):
    a = stored_analysis(staff)
    s = live_session(staff)
    client.force_login(staff)
    pages = ["/", "/live/", "/live/sessions/", f"/live/sessions/{s.pk}/", "/analyses/", f"/analyses/{a.pk}/",
             "/admin/", "/admin/research/analysis/", f"/admin/research/analysis/{a.pk}/change/",
             "/admin/live/livesession/", f"/admin/live/livesession/{s.pk}/change/", "/admin/auth/user/",
             f"/admin/auth/user/{staff.pk}/change/", "/admin/password_change/", "/api/analyses/", "/no-such-page/"]
    for url in pages:
        res = client.get(url, HTTP_ACCEPT="text/html")
        assert res.status_code in (200, 404), (url, res.status_code)
        policy = directives(res["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["connect-src"] == ["'self'", "ws://testserver"]
        assert inline_scripts(res.content.decode()) == [], url
    # the upload page's limit reaches its script as data, not as an inline script
    assert f'data-max-bytes="{int(settings.FER_MAX_UPLOAD_MB * 1e6)}"' in client.get("/analyses/").content.decode()
    client.logout()
    for url in ("/accounts/login/", "/admin/login/"):
        res = client.get(url)
        assert "Content-Security-Policy" in res and inline_scripts(res.content.decode()) == [], url
    # Static files and the API's JSON carry it too; over HTTPS the socket source is wss:.
    assert "Content-Security-Policy" in client.get("/static/js/forms.js")
    res = client.get("/", secure=True)
    assert directives(res["Content-Security-Policy"])["connect-src"] == ["'self'", "wss://testserver"]


def test_the_audit_finds_inline_scripts():
    assert inline_scripts('<script>alert(1)</script><script src="/s.js"></script>') == ["<script> without src"]
    assert inline_scripts('<form onsubmit="return x()"><a href="javascript:x()">') == ["<form onsubmit=...>",
                                                                                        "<a href=javascript:...>"]
    assert inline_scripts('<script id="d" type="application/json">{}</script>') == []


@pytest.mark.django_db(transaction=True)
def test_pages_work_in_a_browser_under_the_policy(daphne_url, playwright_driver):
    """Chromium reports every script, handler or socket the policy blocks on its console; none may be."""
    staff = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    a = services.create_analysis(staff, upload(need(MEDIA / "two_people.jpg")))
    run_analysis(a.pk, a.run_id)
    s = live_session(staff)
    browser = servers.launch_chromium(playwright_driver)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    blocked, errors = [], []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    try:
        page.goto(f"{daphne_url}/accounts/login/?next=/analyses/")
        page.fill("input[name=username]", "root")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{daphne_url}/analyses/")
        page.wait_for_selector("#analyses .status-done")

        page.goto(f"{daphne_url}/analyses/{a.pk}/")          # an image: its faces' table is drawn by script
        servers.wait_until(page, "window.ferTimeline && window.ferTimeline.ready")
        assert page.locator("#share-table tr").count() >= 2

        page.goto(f"{daphne_url}/live/")
        servers.wait_until(page, "typeof Chart !== 'undefined'")
        page.press("#live-fps", "Enter")                     # data-no-submit: the form never submits
        page.wait_for_timeout(300)
        assert page.url == f"{daphne_url}/live/"
        # connect-src lets the page open its own socket, and the origin check lets the browser's Origin in
        hello = page.evaluate("""() => new Promise((resolve) => {
            const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/live/");
            ws.onmessage = (e) => { resolve(JSON.parse(e.data).type); ws.close(); };
            ws.onclose = () => resolve("closed");
            setTimeout(() => resolve("timeout"), 60000);
        })""")
        assert hello == "hello"

        page.goto(f"{daphne_url}/live/sessions/{s.pk}/")
        asked = []
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.click("text=Delete this session")                # data-confirm asks; dismissed, nothing happens
        page.wait_for_timeout(300)
        assert asked == ["Delete this session? This cannot be undone."] and LiveSession.objects.filter(pk=s.pk).exists()

        for url in ("/admin/", "/admin/research/analysis/", f"/admin/research/analysis/{a.pk}/change/",
                    f"/admin/live/livesession/{s.pk}/change/", "/admin/auth/user/add/"):
            page.goto(daphne_url + url)
            page.wait_for_load_state("load")
        assert page.evaluate("typeof django !== 'undefined' && typeof django.jQuery === 'function'")  # admin's JS ran
        page.goto(f"{daphne_url}/admin/live/livesession/{s.pk}/change/")
        servers.wait_until(page, "Chart.getChart(document.getElementById('timeline-chart')) !== undefined")
        assert blocked == [] and errors == [], blocked + errors

        # the control: an inline handler is refused, and reported where the test looks
        page.evaluate("document.body.setAttribute('onclick', 'window.ran = 1'); document.body.click()")
        page.wait_for_timeout(200)
        assert blocked and page.evaluate("window.ran === undefined")
    finally:
        browser.close()


# --- bodies from their headers, slow clients: the real daphne ----------------------------------------------

@pytest.fixture(scope="module")
def plain_daphne(site_env):
    """daphne as scripts/run.sh starts it, DEBUG at its default, with a short idle timeout."""
    env = {k: v for k, v in site_env.items() if k not in PROFILE_VARS}
    env["FER_HTTP_IDLE_SECONDS"] = "2"
    proc, url = servers.start_daphne(env, servers.ARTIFACTS / "daphne-security.log")
    yield int(url.rsplit(":", 1)[1])
    servers.stop(proc)


def exchange(port: int, data: bytes, wait: float = 10) -> tuple:
    """Send `data` (headers, perhaps part of a body) and read until daphne closes: (seconds, reply)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        start = time.monotonic()
        s.sendall(data)
        reply = b""
        try:
            while chunk := s.recv(65536):
                reply += chunk
        except socket.timeout:
            pytest.fail(f"daphne kept the connection open for {wait} s; it answered {reply[:200]!r}")
        return time.monotonic() - start, reply


def post_head(path: str, length: int, ctype: str = "application/x-www-form-urlencoded") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def status_and_body(reply: bytes) -> tuple:
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_a_huge_declared_login_post_is_refused_at_once_without_its_body(plain_daphne):
    """The review's finding: an anonymous 1.1 GB POST to /accounts/login/ was received in full, spooled
    twice, then answered 403. Now the headers alone get the 413, and daphne closes the connection."""
    took, reply = exchange(plain_daphne, post_head("/accounts/login/", 1_100_000_000))
    status, body = status_and_body(reply)
    assert status == 413 and took < 2, (took, reply[:300])
    assert "at most 1,000 KB" in json.loads(body)["detail"]
    # a client that waits for "100 Continue" (curl does for big bodies) gets the 413 instead
    expecting = post_head("/accounts/login/", 1_100_000_000)[:-2] + b"Expect: 100-continue\r\n\r\n"
    took, reply = exchange(plain_daphne, expecting)
    assert reply.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in reply and took < 2
    # the same from the upload endpoints, at their own cap
    took, reply = exchange(plain_daphne, post_head("/api/analyses/", 1_100_000_000, "multipart/form-data; boundary=x"))
    status, body = status_and_body(reply)
    assert status == 413 and took < 2 and "at most 1,000.0 MB" in json.loads(body)["file"][0]
    # JSON to the API and admin forms have the small cap
    for path in ("/api/analyses/1/rerun/", "/admin/login/"):
        status, _ = status_and_body(exchange(plain_daphne, post_head(path, 2_000_000, "application/json"))[1])
        assert status == 413, path


def test_a_body_without_a_length_is_refused_and_small_bodies_reach_the_site(plain_daphne):
    chunked = b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    status, body = status_and_body(exchange(plain_daphne, chunked)[1])
    assert status == 411 and "Content-Length" in json.loads(body)["detail"]
    form = b"username=x&password=y"
    request = post_head("/accounts/login/", len(form))[:-2] + b"Connection: close\r\n\r\n" + form
    status, body = status_and_body(exchange(plain_daphne, request)[1])
    assert status == 403 and b"CSRF" in body        # Django's own answer: the body got through


def test_a_half_sent_request_is_cut_off(plain_daphne):
    """The review's finding: half-sent requests were never timed out (Twisted's idle timeout is 12 hours).
    daphne now closes a connection that sends nothing for FER_HTTP_IDLE_SECONDS (2 here); the proxy in
    front also limits the whole header's time (tests/test_proxy.py)."""
    took, reply = exchange(plain_daphne, b"GET /live/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")
    assert reply == b"" and 1.5 < took < 6, took
    took, reply = exchange(plain_daphne, post_head("/accounts/login/", 100) + b"username=")     # a stalled body
    assert reply == b"" and 1.5 < took < 6, took


def test_the_404_of_the_running_site_lists_no_url_patterns(plain_daphne):
    status, body = status_and_body(exchange(plain_daphne, b"GET /no-such-page/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                          b"Connection: close\r\n\r\n")[1])
    assert status == 404 and b"URLconf" not in body and b"admin/" not in body


def test_the_asgi_application_refuses_from_headers_on_every_path():
    """The same rules for any ASGI server: answered without asking for the body."""
    from fersite.asgi import application

    def call(method, path, headers):
        sent = []

        async def receive():
            raise AssertionError("the body was read")

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "headers": headers, "query_string": b"",
                 "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}
        async_to_sync(application)(scope, receive, send)
        return sent[0]["status"], json.loads(sent[1]["body"])

    status, body = call("POST", "/accounts/login/", [(b"content-length", b"1100000000")])
    assert status == 413 and "file" not in body
    assert call("POST", "/api/analyses/3/rerun/", [(b"transfer-encoding", b"chunked")])[0] == 411
    assert call("POST", "/admin/login/", [(b"content-length", b"-5")])[0] == 400
    assert call("POST", "/analyses/", [(b"content-length", b"1100000000")])[0] == 413


# --- the socket's origin: scheme, host and port ---------------------------------------------------------

def ws_scope(origin=None, host=None, scheme=None):
    headers = [(b"origin", origin.encode())] if origin else []
    if host:
        headers.append((b"host", host.encode()))
    scope = {"type": "websocket", "path": "/ws/live/", "headers": headers}
    if scheme:
        scope["scheme"] = scheme
    return scope


@override_settings(ALLOWED_HOSTS=["127.0.0.1", "fer.example.org"], CSRF_TRUSTED_ORIGINS=[])
def test_the_origin_must_be_the_sites_own_scheme_host_and_port():
    from fersite.asgi import origin_allowed

    assert origin_allowed(ws_scope("http://127.0.0.1:8000", "127.0.0.1:8000", "ws"))
    assert not origin_allowed(ws_scope("http://127.0.0.1:9999", "127.0.0.1:8000", "ws"))      # another port
    assert not origin_allowed(ws_scope("https://127.0.0.1:8000", "127.0.0.1:8000", "ws"))     # another scheme
    assert not origin_allowed(ws_scope("http://127.0.0.1", "127.0.0.1:8000", "ws"))           # port 80 is not 8000
    assert origin_allowed(ws_scope("https://fer.example.org", "fer.example.org", "wss"))      # behind the TLS proxy
    assert origin_allowed(ws_scope("https://fer.example.org:443", "fer.example.org", "wss"))  # default port spelt out
    assert not origin_allowed(ws_scope("http://fer.example.org", "fer.example.org", "wss"))
    assert not origin_allowed(ws_scope("http://evil.example.com", "evil.example.com", "ws"))  # host not allowed
    assert not origin_allowed(ws_scope(None, "127.0.0.1:8000", "ws"))
    assert not origin_allowed(ws_scope("null", "127.0.0.1:8000", "ws"))
    # daphne puts no scheme in a socket's scope: behind the TLS proxy it comes from X-Forwarded-Proto
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        scope = ws_scope("https://fer.example.org", "fer.example.org")
        assert not origin_allowed(scope)
        scope["headers"].append((b"x-forwarded-proto", b"https"))
        assert origin_allowed(scope)
        scope = ws_scope("https://fer.example.org", "fer.example.org")
        scope["headers"].append((b"x-forwarded-proto", b"http"))
        assert not origin_allowed(scope)
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://fer.example.org"]):      # a proxy that rewrites Host
        assert origin_allowed(ws_scope("https://fer.example.org", "10.0.0.5:8000", "ws"))
        assert not origin_allowed(ws_scope("https://fer.example.org:8443", "10.0.0.5:8000", "ws"))


@pytest.mark.django_db
def test_a_page_on_another_port_cannot_open_the_socket():
    from fersite.asgi import application

    async def go():
        comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://127.0.0.1:9999"),
                                                                        (b"host", b"127.0.0.1:8000")])
        connected, _ = await comm.connect(timeout=10)
        await comm.disconnect()
        return connected

    assert async_to_sync(go)() is False


# --- the admin's links to stored media --------------------------------------------------------------------

@pytest.mark.django_db
def test_the_admins_media_links_open_for_staff_only(client, staff):
    """The review's finding: the admin's links to an analysis's file were 404s."""
    a = stored_analysis(User.objects.create_user("ada", password=PASSWORD))
    client.force_login(staff)
    page = client.get(f"/admin/research/analysis/{a.pk}/change/").content.decode()
    assert f'href="/analyses/{a.pk}/original"' in page          # the admin links the site's download page
    link = a.file.url                                             # the storage's own URL, served to staff
    res = client.get(link)
    assert res.status_code == 200 and res["Content-Disposition"].startswith("attachment")
    assert res["Content-Type"] == "image/jpeg" and res["X-Content-Type-Options"] == "nosniff"
    assert b"".join(res.streaming_content) == need(MEDIA / "obama.jpg").read_bytes()
    assert client.get("/media/uploads/no-such-file.jpg").status_code == 404
    folder = link.rsplit("/", 1)[0]
    assert client.get(folder).status_code == 404 and client.get(folder + "/").status_code == 404   # no 60 s hang
    assert client.get("/media/../fersite/settings.py").status_code in (400, 404)
    assert client.get("/media/%2E%2E/var/secret_key").status_code in (400, 404)
    client.force_login(User.objects.get(username="ada"))          # the owner, not staff: the page's own link instead
    assert client.get(link).status_code == 404
    client.logout()
    assert client.get(link).status_code == 404
