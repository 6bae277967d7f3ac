"""spinui settings, read from the environment (12-factor).

With nothing set, spinui runs embedded: SQLite and kombu's filesystem broker under var/,
a secret key and encryption keys generated there once.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "False") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def envsecret(name: str) -> str | None:
    """The value of NAME, or the contents of the file named by NAME_FILE."""
    if name in os.environ:
        return os.environ[name]
    if f"{name}_FILE" in os.environ:
        return Path(os.environ[f"{name}_FILE"]).read_text().strip()
    return None


def generated_once(path: Path, make) -> str:
    """Read a value kept under var/, generating it the first time (embedded default only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(make())
    return path.read_text().strip()


VAR_DIR = Path(os.environ.get("SPINUI_VAR_DIR", BASE_DIR / "var"))
EMBEDDED = "DATABASE_URL" not in os.environ

SECRET_KEY = envsecret("SECRET_KEY") or generated_once(
    VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50)
)
DEBUG = envbool("DEBUG")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
SPINUI_BASE_URL = os.environ.get("SPINUI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", SPINUI_BASE_URL)

# Newest key first; older keys still decrypt, so keys can rotate.
_keys = envsecret("SPINUI_ENCRYPTION_KEYS")
if _keys is None:
    if not EMBEDDED:
        raise ImproperlyConfigured(
            "SPINUI_ENCRYPTION_KEYS (or SPINUI_ENCRYPTION_KEYS_FILE) must be set when "
            "DATABASE_URL is: every machine of an install needs the same keys."
        )
    _keys = generated_once(VAR_DIR / "encryption_keys", lambda: Fernet.generate_key().decode())
SPINUI_ENCRYPTION_KEYS = [k.strip() for k in _keys.replace("\n", ",").split(",") if k.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "guardian",
    "spinui",
    "pipelines",
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
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "spinui.urls"
WSGI_APPLICATION = "spinui.wsgi.application"

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
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'spinui.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so worker processes started by tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-spinui.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "application_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Served by whitenoise from the source folders too, so no collectstatic is needed to start.
WHITENOISE_USE_FINDERS = True

# Bodies past this are refused with 413 (API) or Django's 400 (forms).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("SPINUI_MAX_BODY_BYTES", "1048576")

# Email: SMTP when EMAIL_HOST is set, otherwise printed to the console of `make run`.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "10")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "spinui@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# Celery: messages only say "look at this now"; state lives in the database.
if "CELERY_BROKER_URL" in os.environ:
    CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "spinui.broker:Transport"  # kombu's, writing atomically
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "polling_interval": 0.05,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process, so a killed worker takes no others with it. Not on the
# filesystem broker: it has moved a message's file away before delivering it (a killed worker
# loses it either way; the sweeper recovers), and a worker on it acks only between 2 s waits
# for messages, so with a limit two quick tasks would hold the next message back up to 2 s.
CELERY_WORKER_PREFETCH_MULTIPLIER = 0 if CELERY_BROKER_URL == "filesystem://" else 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Nothing in spinui reads task results; bench/engine.py sets one to time a raw round trip.
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A countdown (a stage's next look) fires within 0.1 s of its due time, not Celery's 1 s.
CELERY_WORKER_TIMER_PRECISION = 0.1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Pipeline expressions (pipelines/expressions) ----------------------------------------------
# Where #fromUrl, #jsonFromUrl, #yamlFromUrl and #propertiesFromUrl may fetch from, comma
# separated: host, host:port, *.domain, 10.0.0.0/8:8080, [::1]:8080. Link-local and metadata
# addresses are always refused; loopback and private ones need the host or network and the port.
# Empty (the default): expressions fetch nothing.
SPINUI_EXPRESSION_URL_ALLOWLIST = envlist("SPINUI_EXPRESSION_URL_ALLOWLIST")
SPINUI_EXPRESSION_URL_TIMEOUT = envint("SPINUI_EXPRESSION_URL_TIMEOUT", "5")
SPINUI_EXPRESSION_URL_MAX_BYTES = envint("SPINUI_EXPRESSION_URL_MAX_BYTES", "1048576")
SPINUI_EXPRESSION_MAX_LENGTH = envint("SPINUI_EXPRESSION_MAX_LENGTH", "10000")
SPINUI_EXPRESSION_MAX_STEPS = envint("SPINUI_EXPRESSION_MAX_STEPS", "100000")
SPINUI_EXPRESSION_MAX_RESULT_SIZE = envint("SPINUI_EXPRESSION_MAX_RESULT_SIZE", "2000000")

# Pipelines engine. Orca's window time zone defaults to America/Los_Angeles; ours to UTC.
SPINUI_EXECUTION_WINDOW_TIMEZONE = os.environ.get("SPINUI_EXECUTION_WINDOW_TIMEZONE", "UTC")
# A message for a stage due later than this many seconds is not sent: the sweeper fires it.
SPINUI_ENGINE_MAX_COUNTDOWN = envint("SPINUI_ENGINE_MAX_COUNTDOWN", "60")
# How long a handler may hold a stage before the sweeper assumes its worker died.
SPINUI_ENGINE_LEASE_SECONDS = envint("SPINUI_ENGINE_LEASE_SECONDS", "300")
SPINUI_SWEEP_INTERVAL = float(os.environ.get("SPINUI_SWEEP_INTERVAL", "5"))
CELERY_BEAT_SCHEDULE = {
    "sweep-executions": {"task": "pipelines.tasks.sweep", "schedule": SPINUI_SWEEP_INTERVAL},
}

# The infrastructure cache (spinui/infrastructure.py): the beat refresh reads every region
# this often (0 turns it off); `manage.py watch_dcos` keeps it fresh in between.
SPINUI_INFRASTRUCTURE_REFRESH_SECONDS = envint("SPINUI_INFRASTRUCTURE_REFRESH_SECONDS", "15")
SPINUI_DCOS_CONNECT_TIMEOUT = float(os.environ.get("SPINUI_DCOS_CONNECT_TIMEOUT", "5"))
SPINUI_DCOS_READ_TIMEOUT = float(os.environ.get("SPINUI_DCOS_READ_TIMEOUT", "20"))
SPINUI_DCOS_RETRIES = envint("SPINUI_DCOS_RETRIES", "2")
# Deck collapses clusters above 250; a collapsed cluster expands on demand.
SPINUI_CLUSTERS_COLLAPSE_ABOVE = envint("SPINUI_CLUSTERS_COLLAPSE_ABOVE", "250")
# How often an open clusters or server group page asks whether anything changed.
SPINUI_LIVE_POLL_SECONDS = envint("SPINUI_LIVE_POLL_SECONDS", "3")
# How often a server-group stage looks at Marathon while it waits (Spinnaker: at most 8 s).
SPINUI_OPERATION_POLL_SECONDS = float(os.environ.get("SPINUI_OPERATION_POLL_SECONDS", "2"))
# A deploy stage looks more often: its end follows Marathon's deployment within a second.
SPINUI_DEPLOY_POLL_SECONDS = float(os.environ.get("SPINUI_DEPLOY_POLL_SECONDS", "0.5"))
if SPINUI_INFRASTRUCTURE_REFRESH_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["infrastructure-refresh"] = {
        "task": "spinui.tasks.infrastructure_refresh",
        "schedule": float(SPINUI_INFRASTRUCTURE_REFRESH_SECONDS),
    }
# A quiet event stream is reconnected (and the region re-read) after this many seconds.
SPINUI_WATCH_IDLE_SECONDS = float(os.environ.get("SPINUI_WATCH_IDLE_SECONDS", "60"))
