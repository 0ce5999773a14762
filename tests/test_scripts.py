"""The two README commands on a machine that lacks what they need: they install it (as root), start it
(Redis), or say in one line what to run, and never end in a traceback.

A tool is "removed" for one test by binding /dev/null over it in a private mount namespace
(unshare -m): the rest of the machine, and the other tests, still see it. A machine without Redis
is a fresh network namespace, whose 127.0.0.1 has nothing listening."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

needs_root = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
                                reason="needs root, unshare and ip (namespaces)")


def run_lib(snippet: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"source scripts/lib.sh; {snippet}"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_a_missing_package_is_named_with_the_command_that_installs_it():
    done = run_lib("fer_ensure_tools bash fer-no-such-tool", FER_NO_APT="1")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == ["setup: missing system packages; as root run: apt-get update && apt-get install -y fer-no-such-tool"]


def test_tools_map_to_their_debian_packages():
    done = run_lib("for t in chromium ffmpeg nginx redis-server postgres ip; do fer_package_of $t; done")
    assert done.stdout.split() == ["chromium", "ffmpeg", "nginx", "redis-server", "postgresql", "iproute2"]


@needs_root
def test_test_command_without_ffmpeg_stops_with_one_line():
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg should be installed by scripts/setup.sh"
    done = subprocess.run(
        ["unshare", "-m", "bash", "-c", f"mount --bind /dev/null {ffmpeg} && scripts/test.sh --collect-only -q"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "FER_NO_APT": "1"})
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "apt-get install -y ffmpeg" in done.stderr
    assert "test: stopped before the tests" in done.stderr


@pytest.fixture
def bare_netns():
    name = f"fer-bare-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
    yield name
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "del", name])


@needs_root
def test_run_command_starts_its_own_redis_when_none_answers(bare_netns, tmp_path):
    """scripts/run.sh in a namespace where nothing listens: it starts Redis itself, and the site
    becomes ready (database, queue and model)."""
    port = 8765
    log = open(tmp_path / "run.log", "w")
    env = {**os.environ, "FER_PORT": str(port), "REDIS_URL": "redis://127.0.0.1:6379/0",
           "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MEDIA_ROOT": str(tmp_path / "media")}
    proc = subprocess.Popen(["ip", "netns", "exec", bare_netns, "scripts/run.sh"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, ready = time.monotonic() + 180, None
        while time.monotonic() < deadline and proc.poll() is None:
            probe = subprocess.run(["ip", "netns", "exec", bare_netns, ".venv/bin/python", "-c",
                                    f"import urllib.request; print(urllib.request.urlopen("
                                    f"'http://127.0.0.1:{port}/readyz', timeout=30).status)"],
                                   cwd=ROOT, capture_output=True, text=True)
            if probe.stdout.strip() == "200":
                ready = True
                break
            time.sleep(1)
        text = (tmp_path / "run.log").read_text()
        assert ready, text[-3000:]
        assert "so started our own" in text
        assert "Traceback" not in text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
