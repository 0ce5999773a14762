"""Real processes for end-to-end tests: daphne, a Celery worker and headless Chromium.

Each child process gets the test database, the test Celery queue and the test channel-layer prefix
through its environment, so it works on the same data as the test that started it and never meets a
site or worker running beside the tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
RUN_ID = f"{os.getpid()}"
TEST_QUEUE = f"fer-test-{RUN_ID}"
TEST_CHANNEL_PREFIX = f"fer-test-{RUN_ID}"
# Media and upload folders of this test run, filled in by the session fixture in conftest.py.
SITE_DIRS: dict = {}
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """The URL of the database the tests are using right now (the test database, once created)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings_dict['NAME']}"


def child_env(settings_dict: dict, **extra: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "fersite.settings",
        "DATABASE_URL": database_url(settings_dict),
        "FER_CELERY_QUEUE": TEST_QUEUE,
        "FER_CHANNEL_PREFIX": TEST_CHANNEL_PREFIX,
        "PYTHONUNBUFFERED": "1",
        **SITE_DIRS,
    })
    env.update(extra)
    return env


def signed_in(user):
    """A browser session (requests) of ``user`` for a daphne under test (same database), with a CSRF pair."""
    import requests
    from django.test import Client

    client = Client()
    client.force_login(user)
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value)
    secret = "a" * 32
    http.cookies.set("csrftoken", secret)
    http.headers["X-CSRFToken"] = secret
    return http


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s:\n{log.read_text()[-3000:]}")


def start_daphne(env: dict, log: Path, port: Optional[int] = None) -> tuple:
    port = port or free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "w")
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "fersite.asgi:application"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, proc, log)
    return proc, f"http://127.0.0.1:{port}"


def start_worker(env: dict, log: Path, concurrency: int = 1, name: str = "w1") -> subprocess.Popen:
    """A real Celery worker on the test queue; returns once it is ready to take jobs."""
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists():
        log.unlink()
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fersite", "worker", "-Q", env["FER_CELERY_QUEUE"],
         "-c", str(concurrency), "-P", "prefork", "-n", f"{name}-{RUN_ID}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-l", "INFO", "--logfile", str(log)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {proc.returncode}:\n"
                               f"{log.read_text()[-3000:] if log.exists() else ''}")
        if log.exists() and " ready." in log.read_text():
            return proc
        time.sleep(0.3)
    raise RuntimeError("the Celery worker did not become ready within 90 s")


def pool_children(proc: subprocess.Popen) -> list:
    """The pids of a prefork worker's pool processes (the ones that run the tasks)."""
    path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _status(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process (all its threads) has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Memory:
    """The peak resident memory a process reaches while an action runs, above where it started."""

    def __init__(self, pid: int):
        self.pid = pid

    def rise_during(self, action):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")     # VmHWM := VmRSS
        before = _status(self.pid)["VmRSS"]
        result = action()
        time.sleep(0.3)                                        # what the server does after its reply
        return _status(self.pid)["VmHWM"] - before, result


def launch_chromium(playwright, *extra_args: str):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/setup.sh says how)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + list(extra_args))


def sign_in_at(page, base_url: str, next_path: str, username: str, password: str) -> None:
    """Sign in through the site's own form in a browser page, which then lands on ``next_path``."""
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def wait_until(page, expression: str, timeout: float = 60.0, interval_ms: int = 100):
    """Poll a page until ``expression`` is truthy; returns its value. Each check is one ``page.evaluate``
    (sent over the DevTools protocol, so the page's Content-Security-Policy allows it), unlike Playwright's
    ``wait_for_function``, whose repeated checks evaluate a string inside the page and are refused
    under the policy whenever the first check fails, i.e. on a busy machine."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout:g} s: {expression}")
        page.wait_for_timeout(interval_ms)
