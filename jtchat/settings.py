"""JT Chat settings, read from the environment (12-factor).

Every setting a deploy may change is listed in the README's settings table. A local ``.env``
beside manage.py (``make run`` writes one) fills in what the environment leaves unset.
One module (a little over 400 lines) so that every setting is found in one place, each
beside the comment that says why; the helpers that read the environment are jtchat/env.py.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import (
    attachment_storage,
    env_bool,
    env_int,
    env_list,
    env_rate,
    parse_email_url,
    read_env_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent


# JTCHAT_ENV_FILE names another file (the tests use it); by default .env beside manage.py.
read_env_file(Path(os.environ.get("JTCHAT_ENV_FILE") or BASE_DIR / ".env"))


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set the SECRET_KEY environment "
            "variable (a long random string), or DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if os.environ.get("RENDER_EXTERNAL_HOSTNAME"):
    ALLOWED_HOSTS.append(os.environ["RENDER_EXTERNAL_HOSTNAME"])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off.")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
if os.environ.get("RENDER_EXTERNAL_URL"):
    CSRF_TRUSTED_ORIGINS.append(os.environ["RENDER_EXTERNAL_URL"])

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"

INSTALLED_APPS = [
    "daphne",
    "jtchat",  # start-up of the project itself: Sentry (jtchat/apps.py)
    "jtchat.admin_site.AdminConfig",  # django.contrib.admin, landing agents on the inbox
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "audit",
    "accounts",
    "chat",
]

MIDDLEWARE = [
    "jtchat.middleware.RequestMetricsMiddleware",  # removed below when METRICS_ENABLED is off
    "jtchat.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "jtchat.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "jtchat.urls"
WSGI_APPLICATION = "jtchat.wsgi.application"
ASGI_APPLICATION = "jtchat.asgi.application"

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
    },
]

# Database: DATABASE_URL (PostgreSQL) → SQLITE_PATH → db.sqlite3 beside manage.py.
# WSGI workers keep their connections (CONN_MAX_AGE); ASGI processes must not (Django's
# advice for async): jtchat/asgi.py sets DJANGO_ASGI_PROCESS=1 before settings load and
# PostgreSQL then uses psycopg 3's connection pool instead.
ASGI_PROCESS = env_bool("DJANGO_ASGI_PROCESS", False)
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=0 if ASGI_PROCESS else env_int("CONN_MAX_AGE", 600),
            conn_health_checks=not ASGI_PROCESS,
        )
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # No JIT: it compiles every plan costed above jit_above_cost, and PostgreSQL costs an
        # EXISTS under OR (the inbox search) by its per-row variant, so a 50 ms query spent
        # about a second compiling (bench/inbox_bench.py). Short queries never gain from it.
        # Custom plans only: psycopg prepares a statement a connection has run five times
        # (below), and a prepared statement keeps being planned for its own parameters, as
        # every query is today, never by a generic plan that ignores them.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "options", "-c jit=off -c plan_cache_mode=force_custom_plan"
        )
        # Parameters sent apart from the SQL (Django's documented option for psycopg 3): no
        # quoting of values into the text on every query; and a statement a connection has
        # run DB_PREPARE_THRESHOLD times is prepared (psycopg's prepare_threshold, which
        # Django leaves off for connection poolers), so the frequent ones (a customer's
        # message) are parsed once per connection (README, "Performance"). Behind a
        # transaction-pooling proxy (PgBouncer) set DB_PREPARE_THRESHOLD=off.
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        prepare_threshold = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
        DATABASES["default"]["OPTIONS"].setdefault(
            "prepare_threshold",
            None if prepare_threshold in ("off", "") else env_int("DB_PREPARE_THRESHOLD", 5),
        )
    if ASGI_PROCESS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env_int("DB_POOL_MAX_SIZE", 8),
        }
    elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, less the health check's SELECT 1 on a connection that served a
        # request within the last second (jtchat/db/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "jtchat.db.postgresql"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH") or BASE_DIR / "db.sqlite3",
            "OPTIONS": {
                # WAL lets the chat page read while an agent writes; the immediate
                # transaction mode avoids "database is locked" on concurrent writers.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's ModelBackend, reading a user's permissions in one query (accounts/backends.py), and
# the access policy answering has_perm("policy.…") for code outside chat (chat/policy.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.ModelBackend", "chat.policy.PolicyBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Channels: in-memory layer for one process (the embedded default), Redis for many.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.live.layers.SharedDecodingPubSubChannelLayer",
            # Pub/sub: one PUBLISH per event, fanned out to local sockets by each process.
            # The list-based core layer pops one message per round trip and drops what waits
            # past its expiry or capacity: it fell behind the agents' fan-out (README,
            # "Performance: live delivery"). Delivery is at most once either way; clients
            # catch up from their last message id when they reconnect.
            # Pub/sub channels are shared by all databases of a Redis server: naming them after
            # the database number keeps apps (and test runs) on different numbers apart.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": "jtchat" + (urlparse(REDIS_URL).path.strip("/") or "0"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "jtchat",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Internationalisation: source strings in English; every page speaks LANGUAGE_CODE (pt-BR),
# whatever the browser asks for: customers and agents work in Portuguese.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "pt-br")
LANGUAGES = [("pt-br", _("Brazilian Portuguese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files live under MEDIA_ROOT, which nothing serves directly: attachments are
# served by a view that asks the access policy (chat/api/attachments.py).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "/media/"  # never routed


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": attachment_storage(),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "jtchat.storage.ModuleManifestStaticFilesStorage"
    },
}

# Request bodies: the chat API refuses bodies over CHAT_MAX_BODY_BYTES with 413 before
# reading them; Django's own ceiling covers the admin forms.
DATA_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    # A view that does not name its capability (chat/api/permissions.py) lets nobody in.
    "DEFAULT_PERMISSION_CLASSES": ["chat.api.permissions.Nobody"],
    "DEFAULT_PARSER_CLASSES": ["chat.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "jtchat.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "chat.api.schema.ChatAutoSchema",
    "EXCEPTION_HANDLER": "chat.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "JT Chat API",
    # The docs page's first page: the customer's and the desk's flows, in Portuguese.
    "DESCRIPTION": (BASE_DIR / "docs" / "api.md").read_text(encoding="utf-8"),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chat.api.schema.add_links",
        "chat.api.schema.describe_uploads",
    ],
    "ENUM_NAME_OVERRIDES": {
        "IssueEnum": "chat.models.Issue",
        "ParticipantEnum": "chat.models.ChatMessage.Author",  # also ended_by
        "SessionStatusEnum": "chat.models.ChatSession.Status",
        "SenderEnum": ["agent", "customer", "user"],
    },
}

# Chat behaviour.
CHAT_MAX_MESSAGE_LENGTH = 4000
# Attachments (chat/attachments/): the largest file a customer or agent may send, files per
# message, and files a customer may send in one chat. Uploads above
# FILE_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB) are spooled to a temporary file as they arrive.
CHAT_ATTACHMENT_MAX_BYTES = env_int("CHAT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
CHAT_ATTACHMENT_MAX_PER_MESSAGE = 5
CHAT_ATTACHMENT_MAX_PER_CHAT = env_int("CHAT_ATTACHMENT_MAX_PER_CHAT", 20)
# Photos are kept at most this many pixels on their long side (chat/attachments/images.py).
CHAT_IMAGE_MAX_SIDE = env_int("CHAT_IMAGE_MAX_SIDE", 2048)
CHAT_MAX_BODY_BYTES = env_int("CHAT_MAX_BODY_BYTES", 32 * 1024)
CHAT_SLA_FIRST_RESPONSE_SECONDS = env_int("CHAT_SLA_FIRST_RESPONSE_SECONDS", 120)
# When on, a new chat goes straight to the accepting agent with the fewest active chats.
CHAT_AUTO_ASSIGN = env_bool("CHAT_AUTO_ASSIGN", False)
CHAT_AGENT_MAX_ACTIVE_CHATS = env_int("CHAT_AGENT_MAX_ACTIVE_CHATS", 5)
# Presence (chat/live/presence.py): an agent's or customer's socket counts as here until this
# long after its last heartbeat (sent every third of it), so a crashed process's agents drop
# out within it. In Redis with REDIS_URL, else in this process's memory.
CHAT_PRESENCE_TTL_SECONDS = env_int("CHAT_PRESENCE_TTL_SECONDS", 45)
if CHAT_PRESENCE_TTL_SECONDS < 3:
    raise ImproperlyConfigured("CHAT_PRESENCE_TTL_SECONDS must be 3 or more.")
# Weekly opening hours in TIME_ZONE, e.g. "mon-fri 08:00-20:00; sat 08:00-12:00" (chat/hours.py;
# checked at start-up by chat/checks.py). Empty: always open. Holidays are added in the admin.
CHAT_BUSINESS_HOURS = os.environ.get("CHAT_BUSINESS_HOURS", "")
# Optional live-delivery URL when sockets are served by a separate host (see README).
# A bare host (as a Render blueprint can pass it) means wss://<host>.
CHAT_WEBSOCKET_URL = os.environ.get("CHAT_WEBSOCKET_URL", "").strip().rstrip("/")
if CHAT_WEBSOCKET_URL and "://" not in CHAT_WEBSOCKET_URL:
    CHAT_WEBSOCKET_URL = f"wss://{CHAT_WEBSOCKET_URL}"

# Optional privacy policy, linked beside the start button: an http(s) URL or a path on this site.
CHAT_PRIVACY_URL = os.environ.get("CHAT_PRIVACY_URL", "").strip()
if CHAT_PRIVACY_URL and not CHAT_PRIVACY_URL.startswith(("https://", "http://", "/")):
    raise ImproperlyConfigured(
        f"CHAT_PRIVACY_URL must be an http(s) URL or a path starting with /, got {CHAT_PRIVACY_URL!r}."
    )

# The site's address as customers reach it: the reopen links in reply e-mails point here.
CHAT_PUBLIC_URL = (
    os.environ.get("CHAT_PUBLIC_URL", "").strip()
    or os.environ.get("RENDER_EXTERNAL_URL", "").strip()
    or ("http://127.0.0.1:8000" if DEBUG else "")
).rstrip("/")

# Reply e-mails (chat/services/emails.py): an agent's replies reach a customer whose page has
# been closed this long, in one e-mail per few minutes of replies, with a link back to the
# chat valid for CHAT_EMAIL_LINK_MAX_AGE_HOURS. Sent by `manage.py send_reply_emails`.
CHAT_EMAIL_AFTER_MINUTES = env_int("CHAT_EMAIL_AFTER_MINUTES", 5)
CHAT_EMAIL_BATCH_SECONDS = env_int("CHAT_EMAIL_BATCH_SECONDS", 120)
CHAT_EMAIL_LINK_MAX_AGE_HOURS = env_int("CHAT_EMAIL_LINK_MAX_AGE_HOURS", 72)


EMAIL_URL = os.environ.get("EMAIL_URL", "").strip()
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "J&T Express <atendimento@localhost>")
if EMAIL_URL:
    globals().update(parse_email_url(EMAIL_URL))
else:
    # Without EMAIL_URL: printed under DEBUG (make run); in production, no reply e-mails
    # (they would carry customers' data into the logs) until EMAIL_URL is set.
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
CHAT_EMAIL_ENABLED = bool(EMAIL_URL) or DEBUG
if EMAIL_URL and not CHAT_PUBLIC_URL:
    raise ImproperlyConfigured(
        "CHAT_PUBLIC_URL is required with EMAIL_URL: reply e-mails link back to the chat page "
        "(e.g. https://chat.example.com)."
    )

# Client IP (rate limits, user_ip): REMOTE_ADDR, unless this many reverse proxies in front
# of the app are trusted to append to X-Forwarded-For (Render: 2, Cloudflare and its proxy).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)


# Rate limits per client IP and per chat. A person opens one chat per conversation and
# types well under one message per 3 s; many customers of a mobile carrier can share one
# IP (CGNAT), hence the per-IP margins. CHAT_THROTTLE_ENABLED=0 turns them all off.
CHAT_THROTTLE_RATES = (
    {
        "session_open_ip": env_rate("CHAT_RATE_SESSIONS_PER_IP", "10/min"),
        "message_ip": env_rate("CHAT_RATE_MESSAGES_PER_IP", "60/min"),
        "message_session": env_rate("CHAT_RATE_MESSAGES_PER_SESSION", "20/min"),
    }
    if env_bool("CHAT_THROTTLE_ENABLED", True)
    else {}
)
# Admin login: failures allowed per username and IP, and per IP, within the window.
ADMIN_LOGIN_FAILURES_PER_USER = env_int("ADMIN_LOGIN_FAILURES_PER_USER", 5)
ADMIN_LOGIN_FAILURES_PER_IP = env_int("ADMIN_LOGIN_FAILURES_PER_IP", 20)
ADMIN_LOGIN_LOCKOUT_SECONDS = env_int("ADMIN_LOGIN_LOCKOUT_SECONDS", 15 * 60)

# Content-Security-Policy (jtchat/middleware.py): scripts only from this site, never
# inline. Extra style-src sources, e.g. "'unsafe-inline'", only if a screen needs them.
CSP_STYLE_SRC_EXTRA = env_list("CSP_STYLE_SRC_EXTRA")

# LGPD: ended chats older than this lose their personal data (anonymize_sessions, daily).
CHAT_RETENTION_DAYS = env_int("CHAT_RETENTION_DAYS", 180)

# Production hardening (all of it is inert with DEBUG on).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes and scrapes on a private network come over plain HTTP, without a proxy's header.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# One JSON object per line (jtchat/logging.py); jtchat.request logs one line per request
# (jtchat/middleware.py): never a session key, a query string or message text.
LOGGING_CONFIG = "jtchat.logging.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "jtchat.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # runserver's access line carries the query string; jtchat.request replaces it.
        "django.server": {"level": "WARNING"},
        "jtchat.request": {"level": os.environ.get("REQUEST_LOG_LEVEL", "INFO")},
    },
}

# Operations (README, "Operations"). Prometheus metrics at /metrics: readable with
# "Authorization: Bearer <METRICS_TOKEN>" or from an address in METRICS_ALLOWED_NETWORKS (the
# client's address as TRUSTED_PROXY_COUNT works it out; e.g. Render's private network,
# 10.0.0.0/8). Neither set: /metrics refuses everyone. METRICS_ENABLED=0 removes the
# instrumentation altogether.
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS")
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS must list addresses or networks like 10.0.0.0/8, got {_network!r}."
        ) from exc
if not METRICS_ENABLED:
    MIDDLEWARE.remove("jtchat.middleware.RequestMetricsMiddleware")

# Sentry (optional; jtchat/sentry.py): errors with personal data scrubbed before they leave.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "").strip() or (
    "development" if DEBUG else "production"
)
try:
    SENTRY_TRACES_SAMPLE_RATE = float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "").strip() or 0)
except ValueError as exc:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1.") from exc
