"""Settings for every setup: embedded defaults, overridden from the environment.

README.md lists every variable. A malformed value stops start-up with a
message naming the variable.
"""

import os
from datetime import timedelta
from pathlib import Path

from django.utils.csp import CSP

from aicenter.env import (
    broker_from_value,
    database_from_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
    private_dir,
    secret_key,
    sqlite_database,
    storage_from_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("AICENTER_DATA_DIR", str(BASE_DIR / "var"))).resolve()
# The demo project's first launch starts a run of the epochs example, so that its Metrics
# tab shows curves at once (its environment installs scikit-learn the first time).
DEMO_FIRST_RUN = env_bool("DEMO_FIRST_RUN", True)
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("SITE_NAME", "AI Center")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    "ninja",
    "axes",
    "aicenter",
    "packages",
    "datasets",
    "pipelines",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the language cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Refuses an oversized body before anything reads it (CSRF reads it in process_view).
    "aicenter.uploads.UploadLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aicenter.urls"
WSGI_APPLICATION = "aicenter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aicenter.context_processors.projects",
            ],
        },
    },
]

if env_str("DATABASE_URL", ""):
    DATABASES = {"default": database_from_url(env_str("DATABASE_URL", ""))}
else:
    DATABASES = {"default": sqlite_database(DATA_DIR / "aicenter.sqlite3")}
    # SQLite puts its temporary files (a migration's sorts) where this says, read once when
    # it starts, else in the system's temporary folder: they stay in the data folder.
    os.environ.setdefault("SQLITE_TMPDIR", str(private_dir(DATA_DIR / "tmp")))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STORE = storage_from_url(env_str("STORAGE_URL", "store"), DATA_DIR)
STORE_URL_MAX_AGE = env_int("STORE_URL_MAX_AGE", 300, minimum=10)

# Runs may last hours: django-q2's ORM broker hands a task out again after
# `retry` seconds, so it must exceed the longest run or a run executes twice.
RUN_TIMEOUT = env_int("RUN_TIMEOUT", 6 * 3600, minimum=60)
# Runs with GPU go to their own queue, served by workers started with Q_CLUSTER_NAME=<this>.
GPU_CLUSTER = env_str("GPU_CLUSTER", "aicenter-gpu")
Q_CLUSTER = {
    "name": "aicenter",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": RUN_TIMEOUT + 300,
    "retry": RUN_TIMEOUT + 600,
    "max_attempts": 1,
    "catch_up": False,
    "poll": 0.1,
    "save_limit": 1000,
    "ack_failures": True,
    "ALT_CLUSTERS": {GPU_CLUSTER: {"workers": env_int("GPU_WORKERS", 1, minimum=1)}},
    **broker_from_value(env_str("Q_BROKER", "orm")),
}

# Where a worker keeps run workspaces, environments and its blob cache.
WORKER_DIR = Path(env_str("AICENTER_WORKER_DIR", str(DATA_DIR / "worker"))).resolve()
WORKER_NAME = env_str("WORKER_NAME", "")
# A worker's blob cache and environments are trimmed, least recently used first, to these.
WORKER_CACHE_MAX_BYTES = env_int("WORKER_CACHE_MAX_BYTES", 20 * 1024**3, minimum=0)
WORKER_ENVS_MAX_BYTES = env_int("WORKER_ENVS_MAX_BYTES", 20 * 1024**3, minimum=0)
# A worker running as root runs the user's code as this account instead.
RUN_AS_USER = env_str("RUN_AS_USER", "nobody")
# Every run's code executes in a bubblewrap sandbox; off runs it unconfined (and says so).
RUN_SANDBOX = env_bool("RUN_SANDBOX", True)
# Runs that ask for the network: "gate" gives them HTTPS to public addresses through the
# network gate, "host" the host's whole network; "off" refuses them.
RUN_NETWORK = env_choice("RUN_NETWORK", "gate", ["off", "gate", "host"])
# Private ranges the network gate opens all the same (a package index on the private network).
EGRESS_ALLOW = env_networks("EGRESS_ALLOW")
# What a run may use unless its pipeline says otherwise: two runs share a 2-core worker.
RUN_CPUS = env_int("RUN_CPUS", 1, minimum=1)
RUN_MEMORY_GB = env_float("RUN_MEMORY_GB", 4, minimum=0.05)
# Empty: no cap on what a run writes beyond the worker's free space.
RUN_DISK_GB = env_float("RUN_DISK_GB", None, minimum=0.001)
RUN_GPUS = env_int("RUN_GPUS", 0, minimum=0)
# Processes (and threads) a run may have at once, through the cgroup's pids controller.
RUN_PIDS = env_int("RUN_PIDS", 1024, minimum=16)
# The worker's GPUs, as CUDA numbers them ("0,1"); empty: what `nvidia-smi -L` lists.
GPU_DEVICES = env_list("GPU_DEVICES", [])
# What this worker host offers its runs, over what the machine reports: its cores
# (those this process may use) and its physical memory. Runs are taken only when what
# they ask for is free here.
WORKER_CPUS = env_int("WORKER_CPUS", 0, minimum=0)
WORKER_MEMORY_GB = env_float("WORKER_MEMORY_GB", None, minimum=0.05)
# A run that does not fit any more is queued again after this many seconds.
CAPACITY_RETRY_SECONDS = env_float("CAPACITY_RETRY_SECONDS", 3, minimum=0.1)
# How often a worker reports its row on the Workers page (capacity, caches, runs).
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 30, minimum=1)
ENVIRONMENT_BUILD_TIMEOUT = env_int("ENVIRONMENT_BUILD_TIMEOUT", 1800, minimum=10)
RUN_LOG_MAX_BYTES = env_int("RUN_LOG_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# Empty lines cost a byte each but a row each: a flood of them is capped by count.
RUN_LOG_MAX_LINES = env_int("RUN_LOG_MAX_LINES", 200_000, minimum=100)
# Points a run may report through its metrics file; past it, they are dropped (and logged).
RUN_METRICS_MAX_POINTS = env_int("RUN_METRICS_MAX_POINTS", 1_000_000, minimum=100)
KILL_GRACE_SECONDS = env_int("KILL_GRACE_SECONDS", 5, minimum=0)
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 5, minimum=1)
# A run whose heartbeat is older than this is failed by the reaper: its worker died.
HEARTBEAT_TIMEOUT = env_int("HEARTBEAT_TIMEOUT", 60, minimum=3)
# A run still scheduled this long after its task was queued, while its queue holds no task,
# is queued again by the reaper: the broker lost the task (Redis restarted without saving).
RUN_REQUEUE_AFTER = env_int("RUN_REQUEUE_AFTER", 300, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Pages, messages and the API's error sentences follow the reader's language;
# the API's field names and values do not change.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "Japanese")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A year: the choice made in the header or on the profile page is remembered.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Uploads beyond this stream to temporary files instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(private_dir(DATA_DIR / "tmp"))
# A file accepted by a refused form waits here for the person's next try: aicenter/kept.py.
KEPT_UPLOAD_DIR = DATA_DIR / "kept"
KEPT_UPLOAD_SECONDS = env_int("KEPT_UPLOAD_SECONDS", 3600, minimum=60)
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("MAX_UPLOAD_FILES", 10_000, minimum=1)
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 2 * 1024**3, minimum=1024)
# Every body but an upload by a member who may make it: aicenter/uploads.py says why.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 1024 * 1024, minimum=1024)
PACKAGE_MAX_ENTRIES = env_int("PACKAGE_MAX_ENTRIES", 10_000, minimum=1)
PACKAGE_MAX_UNCOMPRESSED_BYTES = env_int("PACKAGE_MAX_UNCOMPRESSED_BYTES", 2 * 1024**3, minimum=1)
DATASET_MAX_ENTRIES = env_int("DATASET_MAX_ENTRIES", 100_000, minimum=1)
DATASET_MAX_UNCOMPRESSED_BYTES = env_int("DATASET_MAX_UNCOMPRESSED_BYTES", 20 * 1024**3, minimum=1)
# A folder upload sends each file's relative path as a field beside the file.
DATA_UPLOAD_MAX_NUMBER_FIELDS = DATA_UPLOAD_MAX_NUMBER_FILES + 1000
# Unreferenced blobs younger than this are kept: an upload in flight may be about to use them.
BLOB_GRACE_SECONDS = env_int("BLOB_GRACE_SECONDS", 3600, minimum=0)

# Security. README.md's "Security" paragraph says what each variable is for.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("HTTPS_REDIRECT", False)
# Load balancers probe the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 0)
# Every script and style is a static file of the service; images are served by the
# service too (previews), or are data: URLs in Swagger UI's and the admin's styles.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Failed logins are counted in the database, so every web server behind a load
# balancer sees the same count. By username only: behind a proxy many people share
# one address, and locking an address would lock them all out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# That warning asks to lock addresses too: see above for why not.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "aicenter.security.locked_out"
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
