"""Settings for every deployment; the environment picks the differences.

The embedded default needs nothing: SQLite in WAL mode and media files under
``ENTATIO_HOME`` (``./var``). ``ENTATIO_DATABASE_URL`` switches to PostgreSQL.

Production sets ``ENTATIO_SECRET_KEY`` and ``ENTATIO_ALLOWED_HOSTS``; with
any host name beyond this machine's own, HTTPS is required (``ENTATIO_SSL_REDIRECT``,
``ENTATIO_HSTS_SECONDS``, ``ENTATIO_BEHIND_PROXY``). ``ENTATIO_EMAIL_HOST``
(with ``_PORT``, ``_USER``, ``_PASSWORD``, ``_TLS``, ``_SSL``, ``_FROM``)
sends mail by SMTP instead of showing it on the console, and
``ENTATIO_REDIS_URL`` gives every process one cache for the rate limits.
"""

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
HOME = Path(os.environ.get("ENTATIO_HOME", "var")).resolve()

# Off unless asked for: Django's debug pages show settings, paths and every
# URL to whoever makes a request fail.
DEBUG = os.environ.get("ENTATIO_DEBUG", "0") == "1"


def env_int(name: str, default: int) -> int:
    """A whole-number setting from the environment, refused with its name."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value.replace("_", ""))
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}; fix or unset it."
        ) from None


def secret_key_of_home(home: Path) -> str:
    """A random key made once per home and kept there, readable by its owner.

    Signed links (HTML slide grants, sign-up confirmations, sessions) are only
    as safe as this key, so no installation shares a default one.
    """
    path = home / "secret_key"
    if not path.exists():
        # The home holds the database, uploads and this key: its owner's only.
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process of this home made it a moment ago
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("ENTATIO_SECRET_KEY") or secret_key_of_home(HOME)
ALLOWED_HOSTS = os.environ.get("ENTATIO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(
    ","
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "entatio.people",
    "entatio.crm",
    "entatio.library",
    "entatio.ingest",
    "entatio.engagement",
    "entatio.live",
    "entatio.discussions",
    "entatio.insights",
    "entatio.web",
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

ROOT_URLCONF = "entatio.urls"
ASGI_APPLICATION = "entatio.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """Turn ``postgres://user:password@host:port/name`` into Django's form."""
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(
            f"ENTATIO_DATABASE_URL must start with postgres://, not {parts.scheme}://"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "entatio",
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        "CONN_MAX_AGE": 60,
    }


if os.environ.get("ENTATIO_DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["ENTATIO_DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": HOME / "entatio.sqlite3",
            "OPTIONS": {
                # WAL lets the web process read while the worker writes;
                # IMMEDIATE avoids the upgrade deadlock of deferred writers.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=20000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": HOME / "test.sqlite3"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "ENTATIO_TASK_BACKEND", "django_tasks_db.DatabaseBackend"
        ),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "library"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
MEDIA_ROOT = HOME / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

ENTATIO: dict[str, Any] = {
    # Where people reach this installation; links in e-mails and the
    # activity IRIs of exported xAPI statements are made from it.
    "PUBLIC_URL": os.environ.get("ENTATIO_PUBLIC_URL", "http://localhost:8000"),
    # Ingestion limits; each refusal names the limit so the uploader can act.
    "MAX_UPLOAD_BYTES": env_int("ENTATIO_MAX_UPLOAD_BYTES", 200 << 20),
    "MAX_PAGES": env_int("ENTATIO_MAX_PAGES", 2000),
    "MAX_IMAGE_PIXELS": env_int("ENTATIO_MAX_IMAGE_PIXELS", 100_000_000),
    "SLIDE_WIDTH": 1600,
    "THUMB_WIDTH": 320,
    "SOFFICE": os.environ.get("ENTATIO_SOFFICE", "soffice"),
    "CONVERT_TIMEOUT_SECONDS": env_int("ENTATIO_CONVERT_TIMEOUT", 180),
    "ZIP_MAX_FILES": env_int("ENTATIO_ZIP_MAX_FILES", 1000),
    "ZIP_MAX_UNCOMPRESSED_BYTES": env_int(
        "ENTATIO_ZIP_MAX_UNCOMPRESSED_BYTES", 1 << 30
    ),
    "ZIP_MAX_RATIO": env_int("ENTATIO_ZIP_MAX_RATIO", 1000),
    "VIDEO_MAX_SECONDS": env_int("ENTATIO_VIDEO_MAX_SECONDS", 2 * 3600),
    # A warm LibreOffice pool (needs Debian's python3-uno); 0 is one per core.
    "OFFICE_WARM": os.environ.get("ENTATIO_OFFICE_WARM", "1") == "1",
    "OFFICE_POOL_SIZE": env_int("ENTATIO_OFFICE_POOL_SIZE", 0),
    "OFFICE_MAX_CONVERSIONS": env_int("ENTATIO_OFFICE_MAX_CONVERSIONS", 200),
    "UNO_PYTHON": os.environ.get("ENTATIO_UNO_PYTHON", "/usr/bin/python3"),
    # Engagement rules of the design: seen after 3 s on screen within a
    # visit, a visit ends after 30 minutes without activity.
    "VISIT_GAP_SECONDS": 30 * 60,
    "IDLE_SECONDS": 5 * 60,
}

# Mail: shown on the console until a server is named; every message the
# product sends has a plain-text and an HTML part.
if os.environ.get("ENTATIO_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["ENTATIO_EMAIL_HOST"]
    EMAIL_PORT = env_int("ENTATIO_EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("ENTATIO_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("ENTATIO_EMAIL_PASSWORD", "")
    EMAIL_USE_SSL = os.environ.get("ENTATIO_EMAIL_SSL", "0") == "1"
    EMAIL_USE_TLS = (
        not EMAIL_USE_SSL and os.environ.get("ENTATIO_EMAIL_TLS", "1") == "1"
    )
    EMAIL_TIMEOUT = env_int("ENTATIO_EMAIL_TIMEOUT", 20)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("ENTATIO_EMAIL_FROM", "Entatio <entatio@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The cache holds the rate limits; several web processes must share one, so
# production names a Redis server. Local memory is the embedded default.
if os.environ.get("ENTATIO_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["ENTATIO_REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Live sessions: presenter and audience stay in step through a channel
# layer. In one process, memory does; several web processes share Redis.
if os.environ.get("ENTATIO_REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["ENTATIO_REDIS_URL"]]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Attempts per window before a 429; each limit is (attempts, seconds).
RATE_LIMITS = {
    "login": (10, 15 * 60),
    "login_address": (50, 15 * 60),
    "signup": (10, 60 * 60),
    "verify": (30, 60 * 60),
    "invitation": (30, 60 * 60),
    "discussion_post": (20, 10 * 60),
}

# Served to other machines: HTTPS only, cookies never sent in clear. A server
# that answers only to this machine's own names (the default) has no TLS to
# ask for, and needs none.
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
SERVES_THIS_MACHINE_ONLY = set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS
if not DEBUG and not SERVES_THIS_MACHINE_ONLY:
    SECURE_SSL_REDIRECT = os.environ.get("ENTATIO_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = env_int("ENTATIO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = (
        os.environ.get("ENTATIO_HSTS_SUBDOMAINS", "1") == "1"
    )
    SECURE_HSTS_PRELOAD = os.environ.get("ENTATIO_HSTS_PRELOAD", "1") == "1"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Behind a proxy that ends TLS, it tells Django the request was secure.
    if os.environ.get("ENTATIO_BEHIND_PROXY", "0") == "1":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [
        origin
        for origin in os.environ.get("ENTATIO_TRUSTED_ORIGINS", "").split(",")
        if origin
    ]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"entatio": {"level": os.environ.get("ENTATIO_LOG_LEVEL", "INFO")}},
}
