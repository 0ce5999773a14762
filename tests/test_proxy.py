"""deploy/nginx.conf, rendered by deploy/render_nginx.py, in front of a real daphne started as
scripts/run.sh starts it behind a TLS proxy (FER_BEHIND_TLS_PROXY=1, --proxy-headers): pages and logins
over HTTPS, bodies capped and buffered by the proxy, slow clients cut off, WebSockets passed through.

nginx runs as an instance of its own (its prefix, pid, logs and temporary files in a folder of the
test), so the test needs no root; scripts/setup.sh installs Debian's nginx."""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User

from tests import servers
from tests.test_security import PROFILE_VARS

ROOT = servers.ROOT
sys.path.insert(0, str(ROOT / "deploy"))
from render_nginx import render  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)
# The proxy's client timeouts in this test (header, body pause, send pause). Twice what a slow-client
# check needs: every other test's client (a TLS handshake and a header, under a busy machine's
# scheduler) must always get through within it, or nginx closes it as a slow client.
TIMEOUT = 4
PASSWORD = "a-long-password-8"


def find_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        # what scripts/setup.sh does as root
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx",
                       shell=True, capture_output=True, timeout=600)
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.skip("nginx is not installed and cannot be installed here (not root, or apt-get failed): "
                    "as root, apt-get install -y nginx (scripts/setup.sh does it)")
    return found


def self_signed(folder: Path) -> tuple:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is missing: apt-get install -y openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def stack(site_env):
    nginx = find_nginx()
    prefix = Path(tempfile.mkdtemp(prefix="fer-nginx-"))
    prefix.chmod(0o755)       # nginx's workers (another user when the master is root) reach their temp files
    cert, key = self_signed(prefix)
    env = {k: v for k, v in site_env.items() if k not in PROFILE_VARS}
    env["FER_BEHIND_TLS_PROXY"] = "1"
    daphne_port, http_port, https_port = servers.free_port(), servers.free_port(), servers.free_port()
    log = servers.ARTIFACTS / "daphne-proxy.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    daphne = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(daphne_port),
                               "--proxy-headers", "fersite.asgi:application"], cwd=ROOT, env=env, stdout=open(log, "w"),
                              stderr=subprocess.STDOUT)
    conf = prefix / "nginx.conf"
    conf.write_text(render([f"127.0.0.1:{daphne_port}"], listen=[f"127.0.0.1:{http_port}"],
                           tls_listen=[f"127.0.0.1:{https_port}"], tls_cert=cert, tls_key=key, client_timeout=TIMEOUT))
    nginx_log = servers.ARTIFACTS / "nginx.log"
    proxy = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
                             stdout=open(nginx_log, "w"), stderr=subprocess.STDOUT)
    try:
        servers.wait_for_port(daphne_port, daphne, log)
        servers.wait_for_port(https_port, proxy, nginx_log)
        yield {"http": f"http://127.0.0.1:{http_port}", "https": f"https://127.0.0.1:{https_port}", "cert": str(cert),
               "http_port": http_port, "https_port": https_port, "daphne_port": daphne_port, "daphne_log": log,
               "nginx_error_log": prefix / "error.log"}
    finally:
        if proxy.poll() is None:
            proxy.send_signal(signal.SIGQUIT)       # nginx's graceful stop
            try:
                proxy.wait(10)
            except subprocess.TimeoutExpired:
                proxy.kill()
                proxy.wait()
        servers.stop(daphne)
        if (prefix / "error.log").exists():
            shutil.copy(prefix / "error.log", servers.ARTIFACTS / "nginx-error.log")
        shutil.rmtree(prefix, ignore_errors=True)


def browser_session(stack) -> requests.Session:
    s = requests.Session()
    s.trust_env = False          # no proxy from the environment between the test and nginx
    s.verify = stack["cert"]
    return s


def complete(reply: bytes) -> bool:
    """Whether `reply` holds a whole response with a Content-Length (nginx then lingers before closing)."""
    head, sep, body = reply.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    return bool(sep and length and len(body) >= int(length.group(1)))


def raw(port: int, data: bytes, wait: float = 15) -> tuple:
    """Send `data` to nginx's plain port and read its answer, until it is whole or the connection
    closes: (seconds to the first byte of the answer, or to the close when none came; the answer)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        start = time.monotonic()
        s.sendall(data)
        reply, first = b"", None
        try:
            while not complete(reply) and (chunk := s.recv(65536)):
                first = first or time.monotonic()
                reply += chunk
        except socket.timeout:
            pytest.fail(f"the proxy kept the connection open for {wait} s; it answered {reply[:200]!r}")
        except ConnectionResetError:
            pass
        return (first or time.monotonic()) - start, reply


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


def test_pages_and_a_sign_in_over_https_through_the_proxy(stack):
    """The review's finding: every POST through a TLS proxy got "Origin checking failed"."""
    User.objects.create_user("eve", password=PASSWORD)
    s = browser_session(stack)
    for path in ("/", "/live/", "/static/css/site.css", "/static/vendor/chartjs/chart.umd.min.js"):
        res = s.get(stack["https"] + path, timeout=30)
        assert res.status_code == 200, path
    assert res.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in res.headers["Content-Security-Policy"]
    login = s.get(stack["https"] + "/accounts/login/", timeout=30)
    assert f"wss://127.0.0.1:{stack['https_port']}" in login.headers["Content-Security-Policy"]
    csrf_cookie = next(c for c in s.cookies if c.name == "csrftoken")
    assert csrf_cookie.secure
    token = login.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    res = s.post(stack["https"] + "/accounts/login/", data={"csrfmiddlewaretoken": token, "username": "eve",
                                                             "password": PASSWORD},
                 headers={"Origin": stack["https"], "Referer": stack["https"] + "/accounts/login/"},
                 allow_redirects=False, timeout=30)
    assert res.status_code == 302 and res.headers["Location"] == "/analyses/", res.text[:500]
    session_cookie = next(c for c in s.cookies if c.name == "sessionid")
    assert session_cookie.secure and session_cookie.has_nonstandard_attr("HttpOnly")
    assert s.get(stack["https"] + "/analyses/", timeout=30).status_code == 200
    # plain HTTP is sent to HTTPS
    res = s.get(stack["http"] + "/live/", allow_redirects=False, timeout=30)
    assert res.status_code == 301 and res.headers["Location"].startswith("https://")


def test_the_client_address_is_the_proxys_view_not_the_clients_claim(stack):
    s = browser_session(stack)
    s.get(stack["https"] + "/live/", headers={"X-Forwarded-For": "6.6.6.6"}, timeout=30)
    time.sleep(0.3)
    log = stack["daphne_log"].read_text()
    assert '"GET /live/"' in log and "6.6.6.6" not in log


def test_bodies_over_the_cap_get_413_from_the_proxy(stack):
    port = stack["http_port"]

    def head(path, length):
        return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {length}\r\n\r\n").encode()

    for path, length in (("/accounts/login/", 1_100_000_000), ("/accounts/login/", 2_000_000),
                         ("/api/analyses/", 1_100_000_000), ("/analyses/", 1_000_000_001)):
        took, reply = raw(port, head(path, length))
        assert status_of(reply) == 413 and b"nginx" in reply and took < 1.5, (path, length, took, reply[:200])
    # a chunked body is cut at the cap as it is read
    chunk = b"a" * 1_200_000
    chunked = f"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
    took, reply = raw(port, f"{chunked}\r\n{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
    assert status_of(reply) == 413 and b"nginx" in reply
    # a small chunked body reaches the site, with a length (daphne alone answers a chunked body with 411)
    took, reply = raw(port, f"{chunked}Connection: close\r\n\r\n5\r\nx=abc\r\n0\r\n\r\n".encode())
    assert status_of(reply) == 301       # FER_BEHIND_TLS_PROXY: plain HTTP goes to HTTPS, from Django itself


def test_slow_clients_are_cut_off_and_never_reach_daphne(stack):
    port = stack["http_port"]
    before = stack["daphne_log"].read_text()
    # headers begun, never finished
    took, reply = raw(port, b"GET /live/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")
    assert status_of(reply) in (0, 408) and TIMEOUT - 0.5 < took < TIMEOUT + 4, (took, reply[:200])
    # an upload under the cap whose body stalls: buffered by the proxy, so daphne never hears of it
    took, reply = raw(port, (f"POST /api/analyses/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
                             f"multipart/form-data; boundary=x\r\nContent-Length: 5000000\r\n\r\n--x\r\n").encode())
    assert status_of(reply) in (0, 408) and TIMEOUT - 0.5 < took < TIMEOUT + 4, (took, reply[:200])
    time.sleep(0.3)
    assert "/api/analyses/" not in stack["daphne_log"].read_text()[len(before):]


def test_websockets_pass_through_the_proxy(stack):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    context = ssl.create_default_context(cafile=stack["cert"])
    for url, origin, tls in ((stack["https"], stack["https"], context), (stack["http"], stack["http"], None)):
        ws_url = url.replace("http", "ws", 1) + "/ws/live/"
        try:
            with connect(ws_url, origin=origin, ssl=tls, proxy=None, open_timeout=60) as ws:
                assert '"hello"' in ws.recv(timeout=60)
        except Exception as failed:     # say why nginx or daphne closed it, not only that they did
            log = stack["nginx_error_log"]
            raise AssertionError(f"{ws_url}: {failed!r}; nginx's error log ends with:\n"
                                 f"{log.read_text()[-2000:] if log.exists() else '(none)'}") from failed
    # a page served from another port of the same host (here: daphne's own) may not open it
    with pytest.raises(InvalidStatus) as refused:
        connect(stack["https"].replace("https", "wss") + "/ws/live/", origin=f"http://127.0.0.1:{stack['daphne_port']}",
                ssl=context, proxy=None, open_timeout=30)
    assert refused.value.response.status_code == 403


def test_the_template_renders_the_sites_limits(monkeypatch):
    monkeypatch.setenv("FER_MAX_UPLOAD_MB", "200")
    monkeypatch.delenv("FER_MAX_REQUEST_MB", raising=False)
    monkeypatch.setenv("FER_MAX_FORM_KB", "500")
    text = render(["10.0.0.5:8000", "10.0.0.6:8000"], server_name="fer.example.org")
    assert "server 10.0.0.5:8000 max_fails=1 fail_timeout=10s;" in text
    assert "server 10.0.0.6:8000 max_fails=1 fail_timeout=10s;" in text
    assert "client_max_body_size 400000000;" in text and "client_max_body_size 500000;" in text
    assert "${FER" not in text.split("worker_processes", 1)[1] and "server_name fer.example.org;" in text
    with pytest.raises(SystemExit):
        render(["127.0.0.1:8000; include /etc/passwd"])
    with pytest.raises(SystemExit):
        render(["127.0.0.1:8000"], tls_listen=["443"])
