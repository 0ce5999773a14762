import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FER_SHARED_DIR", ROOT.parent / "shared"))
MEDIA = SHARED / "media"
FER_ZIP = SHARED / "datasets" / "fer2013.zip"
CLIP = MEDIA / "short_hamilton_clip.mp4"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read the shared media and data set beside the checkout")
    return path


def opencv_frames(path: Path, n: int) -> list:
    """The first ``n`` frames of a video as OpenCV's VideoCapture reads them (BGR)."""
    import cv2

    import emotion.ml  # noqa: F401 - first: sets OpenCV's image limit before cv2 loads

    cap, frames = cv2.VideoCapture(str(path)), []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


@pytest.fixture(scope="session")
def engine():
    from emotion.ml import load_engine

    return load_engine()


@pytest.fixture(scope="session")
def fer_splits():
    from emotion.training.data import load_fer2013
    from emotion.training.train_common import DEFAULT_CACHE

    return load_fer2013(need(FER_ZIP), cache_dir=DEFAULT_CACHE)


# --- real processes for end-to-end tests (see tests/servers.py) ------------------------------------
from tests import servers  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _isolated_site(tmp_path_factory):
    """This process enqueues on the test queue, speaks on the test channel prefix and stores media in a
    folder of its own, like the children it starts (servers.child_env)."""
    from django.conf import settings
    from django.test.utils import override_settings

    from fersite.celery import app

    app.conf.task_default_queue = servers.TEST_QUEUE
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = servers.TEST_CHANNEL_PREFIX
    settings.CACHES["limits"]["KEY_PREFIX"] = servers.TEST_CHANNEL_PREFIX     # per-client counters too
    media, upload_tmp = tmp_path_factory.mktemp("media"), tmp_path_factory.mktemp("upload-tmp")
    servers.SITE_DIRS.update(MEDIA_ROOT=str(media), FER_UPLOAD_TEMP_DIR=str(upload_tmp))
    with override_settings(MEDIA_ROOT=media, FILE_UPLOAD_TEMP_DIR=upload_tmp):
        yield
    import redis

    from emotion.research.analyses.shares import queue_keys

    redis.Redis.from_url(settings.REDIS_URL).delete(*queue_keys(servers.TEST_QUEUE))   # one list per fair-share level


@pytest.fixture(scope="session")
def site_env(django_db_setup, django_db_blocker):
    """Environment for child processes: the test database (created by now), test queue and prefix."""
    from django.db import connection

    yield servers.child_env(connection.settings_dict)
    # Threads that ran consumers' database calls keep their own connections; on PostgreSQL those stop
    # the test database from being dropped at the end.
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(scope="session")
def daphne_url(site_env):
    proc, url = servers.start_daphne(site_env, servers.ARTIFACTS / "daphne.log")
    yield url
    servers.stop(proc)


@pytest.fixture(scope="session")
def celery_worker(site_env):
    proc = servers.start_worker(site_env, servers.ARTIFACTS / "celery-worker.log")
    yield proc
    servers.stop(proc, timeout=30)


@pytest.fixture
def playwright_driver(monkeypatch):
    """Sync Playwright for one test. Not kept for the session: while it runs it holds an asyncio loop
    on this thread, which would break async_to_sync in the tests that follow."""
    from playwright.sync_api import sync_playwright

    # That loop also makes Django refuse ORM calls from the test; the calls really are synchronous, so
    # the guard does not apply here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        yield pw
