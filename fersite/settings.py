"""Settings, read from environment variables with safe local defaults.

DEBUG is off unless DJANGO_DEBUG=1. Production sets DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS, and behind a
TLS proxy the # SECURITY block's variables; nothing is required to run locally.

Over 300 lines because Django reads one settings module: it is cut into commented blocks, one per
concern (apps, middleware, database, security, limits, Celery, Channels, logging, caches).
"""

import os
import socket
from pathlib import Path

from celery.schedules import crontab

# The engine reads the same pixel limits (FER_MAX_IMAGE_PIXELS, FER_MAX_VIDEO_PIXELS); importing it first
# also sets OpenCV's own limit before anything in a Django process loads OpenCV.
from emotion.ml import MAX_IMAGE_PIXELS as FER_MAX_IMAGE_PIXELS  # noqa: F401 - a setting, read by name
from emotion.ml import MAX_VIDEO_PIXELS as FER_MAX_VIDEO_PIXELS  # noqa: F401

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(int(default))).lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str) -> list:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


# Off unless DJANGO_DEBUG=1: the debug pages list URL patterns and settings.
DEBUG = env_bool("DJANGO_DEBUG", False)
# DJANGO_SECRET_KEY, else the key scripts/setup.sh keeps in var/secret_key (mode 600; run.sh and test.sh
# make it once), else, with DEBUG on only, a fixed development key.
SECRET_KEY_FILE = BASE_DIR / "var" / "secret_key"
SECRET_KEY = (os.environ.get("DJANGO_SECRET_KEY")
              or (SECRET_KEY_FILE.read_text().strip() if SECRET_KEY_FILE.is_file() else "")
              or ("dev-only-insecure-key" if DEBUG else ""))
if not SECRET_KEY:
    raise RuntimeError("Set DJANGO_SECRET_KEY, or run scripts/setup.sh once (it keeps a key in var/secret_key), "
                       "or DJANGO_DEBUG=1 for development")
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
    "drf_spectacular_sidecar",      # Swagger UI's files for /api/docs/, served from here, never a CDN
    "emotion",
    "emotion.research",
    "emotion.live",
    "emotion.stimuli",
    "emotion.privacy",
]

# One list, in the order requests meet it; the blocks below say what each of ours is for.
MIDDLEWARE = [
    "emotion.web.metrics.ServerErrorMetricsMiddleware",        # METRICS: counts the 5xx answers, first
    "django.middleware.security.SecurityMiddleware",
    "emotion.web.csp.ContentSecurityPolicyMiddleware",         # SECURITY: this site's own scripts only
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "emotion.web.badtext.BadTextMiddleware",                   # LIMITS PER CLIENT: refused text, a 400
    "emotion.web.throttle.LoginThrottleMiddleware",            # ... and locked-out sign-ins, a 429
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
                "emotion.web.context_processors.emotions",
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

# Applied wherever a password is set through Django (createsuperuser, the admin, password changes).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
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
# With DEBUG off WhiteNoise indexes STATIC_ROOT at start-up (and warns while it is missing); the pages'
# own files still come from the finders, so no collectstatic step is needed.
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
# Folders the site writes to: made when Django starts (emotion/apps.py), not when settings are read.
FER_FOLDERS = [STATIC_ROOT, FILE_UPLOAD_TEMP_DIR, *([SQLITE_PATH.parent] if "SQLITE_PATH" in globals() else [])]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "research:list"
LOGOUT_REDIRECT_URL = "emotion:home"

# FER_BLUR_FACES=1: annotated exports (video and image) show every face pixelated beyond recognition,
# keeping its box and labels, for sharing results without the people in them.
FER_BLUR_FACES = env_bool("FER_BLUR_FACES", False)

# UPLOAD LIMITS for research analyses (the page and the API say which one a file broke).
FER_MAX_UPLOAD_MB = float(os.environ.get("FER_MAX_UPLOAD_MB", 500))
FER_MAX_VIDEO_SECONDS = float(os.environ.get("FER_MAX_VIDEO_SECONDS", 1800))
# One request of the upload page may carry several files; anything larger is refused unread.
FER_MAX_REQUEST_MB = float(os.environ.get("FER_MAX_REQUEST_MB", 2 * FER_MAX_UPLOAD_MB))
# Pixels, read from each file's header before any pixel is decoded: images (FER_MAX_IMAGE_PIXELS, 50
# million) and video frames (FER_MAX_VIDEO_PIXELS, 3840x2160), imported at the top from the engine.
# Uploads are probed in a process of their own (emotion/research/analyses/probe.py), capped in memory (MB
# beyond what its libraries take) and in time (s): a hostile file can at worst kill that process.
FER_PROBE_MEMORY_MB = float(os.environ.get("FER_PROBE_MEMORY_MB", 1536))
FER_PROBE_SECONDS = float(os.environ.get("FER_PROBE_SECONDS", 30))
# FAIR SHARES (emotion/research/analyses/shares.py, docs/security.md). Probes at once in one web process (each may
# map FER_PROBE_MEMORY_MB); an upload waits this long for a turn before a 503 that says to retry.
FER_PROBES_PER_PROCESS = int(os.environ.get("FER_PROBES_PER_PROCESS", 2))
FER_PROBE_WAIT_SECONDS = float(os.environ.get("FER_PROBE_WAIT_SECONDS", 10))
# Per user, across every web process: probes in flight, analyses queued or running, files per window
# (the page and the API share one count), files in one request of the upload page (the API takes one).
FER_PROBES_PER_USER = int(os.environ.get("FER_PROBES_PER_USER", 2))
FER_JOBS_PER_USER = int(os.environ.get("FER_JOBS_PER_USER", 20))
FER_UPLOADS_PER_USER = int(os.environ.get("FER_UPLOADS_PER_USER", 30))
FER_UPLOAD_WINDOW_SECONDS = int(os.environ.get("FER_UPLOAD_WINDOW_SECONDS", 60))
FER_FILES_PER_PAGE_UPLOAD = int(os.environ.get("FER_FILES_PER_PAGE_UPLOAD", 10))
# Jobs are taken in turns between users: a job's priority is how many other analyses its owner has
# queued or running, in FER_FAIR_LEVELS levels (FER_FAIR_QUEUE=0: first in, first out for everyone).
FER_FAIR_QUEUE = env_bool("FER_FAIR_QUEUE", True)
FER_FAIR_LEVELS = int(os.environ.get("FER_FAIR_LEVELS", 10))
# The timeline page's frames are kept by the analysis job, at most this many an analysis (evenly spaced
# analysed frames, emotion/ml/frame_pack.py): the web process serves them and never decodes an upload.
FER_VIEWER_FRAMES = int(os.environ.get("FER_VIEWER_FRAMES", 300))

# SECURITY (see docs/security.md).
# Every other request body (login, admin, API JSON) is capped at this, from its Content-Length header
# before any of it is read (emotion/web/limits.py); a body without a length is refused with a 411.
FER_MAX_FORM_KB = float(os.environ.get("FER_MAX_FORM_KB", 1000))
# Daphne closes a connection that sends nothing for this long (half a request, an idle keep-alive).
FER_HTTP_IDLE_SECONDS = float(os.environ.get("FER_HTTP_IDLE_SECONDS", 60))
# Origins (scheme://host[:port]) trusted for POSTs and WebSockets besides the request's own, such as
# https://fer.example.org behind a TLS proxy.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# FER_BEHIND_TLS_PROXY=1: the site is served over HTTPS by a proxy (deploy/nginx.conf) that sets
# X-Forwarded-Proto, and scripts/run.sh starts daphne with --proxy-headers. Cookies are then sent over
# HTTPS only, plain HTTP is redirected, and browsers are told to use HTTPS (HSTS).
FER_BEHIND_TLS_PROXY = env_bool("FER_BEHIND_TLS_PROXY", False)
if FER_BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading (a browser-shipped list, slow to leave) is the domain owner's decision: off unless asked,
    # and check --deploy's reminder about it (W021) is silenced while it is off.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "emotion.web.api_throttle.ThrottledTokenAuthentication",      # wrong tokens counted per address (429)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Requests per address without an account, per user with one (emotion/web/throttle.py). A list page
    # polls each unfinished analysis every 2 s: 25 rows in two tabs stay under the user rate.
    "DEFAULT_THROTTLE_CLASSES": ["emotion.web.api_throttle.AnonRate", "emotion.web.api_throttle.UserRate"],
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("FER_API_RATE_ANON", "60/min"),
                               "user": os.environ.get("FER_API_RATE_USER", "1800/min")},
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
        "emotion.research.api.schema.drop_slash_after_file_suffix",
    ],
    # /api/docs/: Swagger UI from the drf-spectacular-sidecar package; no validator badge (an outside image)
    # an analysis and a stimulus are both an image or a video: one enum, named for what it is
    "ENUM_NAME_OVERRIDES": {"MediaKindEnum": "emotion.research.models.Analysis.Kind"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# This process' host in logs, the live socket's hello and metrics (several web hosts behind one balancer).
FER_SERVER_NAME = os.environ.get("FER_SERVER_NAME") or socket.gethostname()

# LOGGING: every line names its host and, where it has one, the analysis or live session it is about
# (emotion/web/logcontext.py). To standard error: run.sh sends the worker's to var/log/celery.log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"about": {"()": "emotion.web.logcontext.ContextFilter"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s [%(server)s%(about)s] %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "filters": ["about"], "formatter": "line"}},
    "loggers": {name: {"handlers": ["stderr"], "level": os.environ.get("FER_LOG_LEVEL", "INFO"), "propagate": False}
                for name in ("emotion", "fersite")},
}

# METRICS: Prometheus at /metrics, answered only to these networks (comma-separated CIDRs; anyone else
# gets a 404). Behind the proxy daphne sees the client's own address, so keep this to the scraper's.
FER_METRICS_NETWORKS = os.environ.get("FER_METRICS_NETWORKS", "127.0.0.0/8,::1/128")

# REDIS: the Celery broker and the channel layer.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# CELERY: JSON only; a task's hard limit stays under the broker's visibility timeout so a job is
# never handed to a second worker while the first is still on it.
# FER_BROKER_URL puts the job queue on a Redis of its own (default: REDIS_URL, beside the channel layer).
CELERY_BROKER_URL = os.environ.get("FER_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 1800))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# priority_steps: one Redis list per fair-share level (FER_FAIR_LEVELS, emotion/research/analyses/shares.py); a
# worker takes from the lowest non-empty one. Without it kombu rounds priorities into four levels.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600,
                                   "priority_steps": list(range(max(1, FER_FAIR_LEVELS)))}
# One queue name per deployment (the tests use their own, beside any running site).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("FER_CELERY_QUEUE", "fer")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A running job keeps a key alive in Redis; every worker looks this often for running analyses whose
# key expired (their whole worker was killed) and queues them again (emotion/research/analyses/liveness.py).
FER_JOB_HEARTBEAT_SECONDS = int(os.environ.get("FER_JOB_HEARTBEAT_SECONDS", 60))
FER_JOB_WATCH_SECONDS = float(os.environ.get("FER_JOB_WATCH_SECONDS", 30))

# CHANNELS
# redis-py 8 gives every socket a 5 s read timeout by default, as long as channels_redis's blocking
# receive waits for a message: an idle consumer's receive would raise after ~5 s and close its
# WebSocket with 1011. A read timeout above that wait keeps idle sockets open.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # FER_CHANNEL_REDIS_URLS (comma-separated) shards the layer over several Redis servers: channels-redis
        # places each channel and group on one of them by a hash of its name. Live frames never pass here
        # (they go straight to the daphne holding the socket); the layer carries analyses' progress.
        "CONFIG": {"hosts": [{"address": url, "socket_timeout": 15}
                             for url in env_list("FER_CHANNEL_REDIS_URLS", REDIS_URL)],
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

# LIMITS PER CLIENT (emotion/web/throttle.py, emotion/live/guards.py). A client is its address as daphne
# saw it (behind the TLS proxy, from X-Forwarded-For through --proxy-headers), per /64 for IPv6; on the
# live socket a signed-in visitor counts as their user instead.
# Counters shared by every process live in Redis under this deployment's prefix; while Redis is down
# each process counts alone (limits still hold, per process) and nothing fails for it.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "limits": {"BACKEND": "emotion.web.throttle.FallbackRedisCache", "LOCATION": REDIS_URL,
               "KEY_PREFIX": CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
               "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
}
# Sign-in (/accounts/login/, the admin's): after this many failures for one address and user name, or
# for one address whatever the names, within the window, its sign-ins get 429 until the window ends.
FER_LOGIN_FAILURES = int(os.environ.get("FER_LOGIN_FAILURES", 10))
FER_LOGIN_FAILURES_PER_IP = int(os.environ.get("FER_LOGIN_FAILURES_PER_IP", 50))
FER_LOGIN_WINDOW_SECONDS = int(os.environ.get("FER_LOGIN_WINDOW_SECONDS", 600))
# Wrong API tokens from one address within the same window, then 429.
FER_TOKEN_FAILURES = int(os.environ.get("FER_TOKEN_FAILURES", 20))
# Live socket, per client over all its connections to one daphne process (these guard that process's
# CPU, so they are counted in it): sockets open at once, frames a second, and frames waiting or being
# analysed at once (a flood from one address then keeps at most this many frames ahead of anyone
# else's in the inference pool).
FER_LIVE_MAX_SOCKETS_PER_IP = int(os.environ.get("FER_LIVE_MAX_SOCKETS_PER_IP", 6))
FER_LIVE_MAX_FPS_PER_IP = float(os.environ.get("FER_LIVE_MAX_FPS_PER_IP", 30))
FER_LIVE_MAX_BUSY_PER_IP = int(os.environ.get("FER_LIVE_MAX_BUSY_PER_IP", 2))
# Stored live sessions per client an hour, counted in Redis across processes (a database row each).
FER_LIVE_MAX_STORED_PER_IP_HOUR = int(os.environ.get("FER_LIVE_MAX_STORED_PER_IP_HOUR", 30))
# Refused text (NUL, control characters) in any form field or query parameter: a 400 naming the field;
# sign-ins of a locked-out client: a 429 before any password is checked.
# (both in MIDDLEWARE, after authentication)

# RETENTION AND PRIVACY (emotion/privacy/): how long things are kept, in days from their upload (an
# analysis' annotated media: from its end; a live session: from its start); 0 keeps them for ever.
# `manage.py purge [--dry-run]` and the daily beat task below delete what is older.
# Uploaded originals hold the faces themselves, the most sensitive thing stored: 90 days leaves time to
# check the results and re-run with a newer model, then only the results remain.
FER_RETAIN_ORIGINALS_DAYS = int(os.environ.get("FER_RETAIN_ORIGINALS_DAYS", 90))
# Annotated media also shows the faces, and is a convenience copy: a re-run makes it again while the
# original is kept.
FER_RETAIN_ANNOTATED_DAYS = int(os.environ.get("FER_RETAIN_ANNOTATED_DAYS", 30))
# Results are the research data; how long a lab keeps them is set by its ethics approval or data
# management plan, not by this site: kept until deleted unless a period is set. Participants' remote
# sessions of stimuli are results too: the same period applies to them.
FER_RETAIN_RESULTS_DAYS = int(os.environ.get("FER_RETAIN_RESULTS_DAYS", 0))
# Stored live sessions are a visitor's try-out, mostly anonymous: a month.
FER_RETAIN_LIVE_DAYS = int(os.environ.get("FER_RETAIN_LIVE_DAYS", 30))
# Celery beat (started by the run scripts) runs the purge once a day, at a quiet hour.
CELERY_BEAT_SCHEDULE = {
    "retention-purge": {"task": "privacy.purge_expired", "schedule": crontab(hour=3, minute=30)},
}
