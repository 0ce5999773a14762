"""Settings, read from environment variables with safe local defaults.

Production must set DJANGO_SECRET_KEY and DJANGO_DEBUG=0; nothing else is required to run locally.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(int(default))).lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str) -> list:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
# A fixed key is only acceptable for local development; with DEBUG off a real one must be given.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or ("dev-only-insecure-key" if DEBUG else None)
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "emotion",
    "emotion.research",
    "emotion.live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fersite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fersite.context_processors.emotions",
            ]
        },
    }
]
WSGI_APPLICATION = None
ASGI_APPLICATION = "fersite.asgi.application"

# DATABASE: SQLite by default; DATABASE_URL=postgres://user@host:port/name selects PostgreSQL.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL.startswith(("postgres://", "postgresql://")):
    from urllib.parse import unquote, urlparse

    _u = urlparse(DATABASE_URL)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _u.path.lstrip("/"),
            "USER": unquote(_u.username or ""),
            "PASSWORD": unquote(_u.password or ""),
            "HOST": _u.hostname or "",
            "PORT": str(_u.port or ""),
        }
    }
else:
    # sqlite:////abs/path selects a file; the web server, the workers and the tests share it, so it
    # runs in WAL mode (readers never wait for the worker's writes) with a generous lock timeout.
    SQLITE_PATH = Path(DATABASE_URL[len("sqlite:///"):] if DATABASE_URL.startswith("sqlite:///")
                       else BASE_DIR / "var" / "db.sqlite3")
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
            # A file, not memory: the daphne and Celery processes that tests start must see it.
            "TEST": {"NAME": str(SQLITE_PATH.with_name("test_" + SQLITE_PATH.name))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Chart.js comes from npm (package.json, installed by scripts/setup.sh), never copied into the repo.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist")]
# WhiteNoise serves static files from the finders as well, so daphne needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Uploads go through Django's storage API ("default"): swap the backend for object storage.
STORAGES = {
    "default": {"BACKEND": os.environ.get("FER_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Big uploads stream to this folder, never into memory; Django deletes each temporary file when its
# request ends.
FILE_UPLOAD_TEMP_DIR = Path(os.environ.get("FER_UPLOAD_TEMP_DIR", BASE_DIR / "var" / "upload-tmp"))
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "research:list"
LOGOUT_REDIRECT_URL = "emotion:home"

# UPLOAD LIMITS for research analyses (the page and the API say which one a file broke).
FER_MAX_UPLOAD_MB = float(os.environ.get("FER_MAX_UPLOAD_MB", 500))
FER_MAX_VIDEO_SECONDS = float(os.environ.get("FER_MAX_VIDEO_SECONDS", 1800))
# One request of the upload page may carry several files; anything larger is refused unread.
FER_MAX_REQUEST_MB = float(os.environ.get("FER_MAX_REQUEST_MB", 2 * FER_MAX_UPLOAD_MB))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FER research API",
    "DESCRIPTION": "Upload images and videos, follow their analysis, download per-frame emotion results.",
    "VERSION": "1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "emotion.research.schema.drop_slash_after_file_suffix",
    ],
}

# REDIS: the Celery broker and the channel layer.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# CELERY: JSON only; a task's hard limit stays under the broker's visibility timeout so a job is
# never handed to a second worker while the first is still on it.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 1800))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
# One queue name per deployment (the tests use their own, beside any running site).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("FER_CELERY_QUEUE", "fer")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# CHANNELS
# redis-py 8 gives every socket a 5 s read timeout by default, as long as channels_redis's blocking
# receive waits for a message: an idle consumer's receive would raise after ~5 s and close its
# WebSocket with 1011. A read timeout above that wait keeps idle sockets open.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                   "prefix": os.environ.get("FER_CHANNEL_PREFIX", "asgi")},
    }
}

# EMOTION ENGINE: the shipped checkpoint unless a path is given.
EMOTION_CHECKPOINT = os.environ.get("EMOTION_CHECKPOINT", "")

# LIVE: the webcam page's WebSocket (/ws/live/). Limits apply per connection.
# A frame is one JPEG; daphne refuses messages over 1 MiB, so this stays well under it.
FER_LIVE_MAX_FRAME_BYTES = int(os.environ.get("FER_LIVE_MAX_FRAME_BYTES", 256 * 1024))
# Checked in the JPEG/PNG header, before decoding: a small file cannot claim a huge frame.
FER_LIVE_MAX_FRAME_PIXELS = int(os.environ.get("FER_LIVE_MAX_FRAME_PIXELS", 1920 * 1080))
# Token bucket: this many frames a second sustained, bursts of up to FER_LIVE_BURST frames.
FER_LIVE_MAX_FPS = float(os.environ.get("FER_LIVE_MAX_FPS", 30))
FER_LIVE_BURST = int(os.environ.get("FER_LIVE_BURST", 30))
# Frames held for a connection (the one being analysed included); more are answered "busy".
FER_LIVE_QUEUE = int(os.environ.get("FER_LIVE_QUEUE", 2))
# Inference threads for all connections of a process, and torch's intra-op threads in each
# (0 leaves torch's default); see benchmarks/results/live.json for why these defaults.
FER_LIVE_WORKERS = int(os.environ.get("FER_LIVE_WORKERS", 2))
FER_LIVE_TORCH_THREADS = int(os.environ.get("FER_LIVE_TORCH_THREADS", 1))
# Seconds between full-frame scans for new faces (tracked faces are followed on every frame). The
# scan runs on its own thread beside the frames' replies, never on a reply's path.
FER_LIVE_SCAN_SECONDS = float(os.environ.get("FER_LIVE_SCAN_SECONDS", 1.0))
# Stored sessions: written at most every this many seconds, and at stop or disconnect.
FER_LIVE_FLUSH_SECONDS = float(os.environ.get("FER_LIVE_FLUSH_SECONDS", 5))
# The stored timeline keeps at most one point per step and at most this many points (the step
# doubles when a long session reaches the cap).
FER_LIVE_TIMELINE_STEP = float(os.environ.get("FER_LIVE_TIMELINE_STEP", 0.5))
FER_LIVE_TIMELINE_POINTS = int(os.environ.get("FER_LIVE_TIMELINE_POINTS", 1200))
