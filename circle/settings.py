"""Circle's one settings module, read from the environment.

The defaults run on a laptop with no services: SQLite (WAL mode), Celery tasks run eagerly in-
process, email printed to the console. With DEBUG off (production) the process refuses to start
unless it is given a real SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL, and `manage.py check
--deploy` is clean. Every variable is listed in the README.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

# Lets the code write Django's generic classes with type arguments (admin.ModelAdmin[Member]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", True)

# The laptop key is public; production refuses to start with it (see below).
_INSECURE_KEY = "django-insecure-circle-laptop-key-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", _INSECURE_KEY)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# The site's own address, for links in what leaves the site (a helper's offer by email and
# text links straight to the task's page; an operator's card payment link): no request is at
# hand when a worker sends them. Production has no default: a forgotten one would send
# members links to the laptop's address.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

if not DEBUG:
    _missing = []
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        _missing.append("SECRET_KEY (at least 50 random characters)")
    if not ALLOWED_HOSTS:
        _missing.append("ALLOWED_HOSTS")
    if not os.environ.get("DATABASE_URL"):
        _missing.append("DATABASE_URL")
    if not SITE_URL.startswith(("https://", "http://")):
        _missing.append("SITE_URL (the site's address, https://...)")
    if _missing:
        raise ImproperlyConfigured(
            "Production mode (DEBUG off) needs these settings: " + ", ".join(_missing)
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djmoney",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "circle",
    "members",
    "attention",
    "helpers",
    "tokens",
    "messaging",
    "matching",
    "payments",
    # The pages: the top floor, over every app's services and selectors.
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks the signed-in user verified (user.is_verified()) once they gave a second-factor code
    # this session (staff two-factor, members/two_factor.py).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content Security Policy on every answer; the pages' one inline script carries its nonce.
    "csp.middleware.CSPMiddleware",
    # The pages' 404 and 403 for a scoped lookup's NotFound and Forbidden.
    "web.middleware.DomainErrorPages",
    # Last, as django-axes asks: it turns a lockout raised during login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "circle.urls"
WSGI_APPLICATION = "circle.wsgi.application"
AUTH_USER_MODEL = "members.User"

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
                "web.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_db: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock when a
    # transaction starts, so two writers queue (up to `timeout` seconds) instead of one failing
    # halfway with "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Keep connections across requests; health checks drop ones the server closed meanwhile.
    _db["CONN_MAX_AGE"] = envint("CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    # Matching: PostgreSQL's JIT compiles a query once its estimated cost passes a threshold,
    # which the candidate queries of matching (a few ms each) reach on large tables; compiling
    # then takes far longer than running (1 ms became 90 ms). Nothing Circle asks is long enough
    # to gain from it, so every connection turns it off (DATABASE_JIT=true turns it back on).
    if _db["ENGINE"].startswith("django.db.backends.postgresql") and not envbool(
        "DATABASE_JIT", False
    ):
        _db.setdefault("OPTIONS", {})
        _db["OPTIONS"]["options"] = " ".join(
            filter(None, [_db["OPTIONS"].get("options", ""), "-c jit=off"])
        )
_db.setdefault("TEST", {})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Shared between web processes when CACHE_URL names a Redis server; per process otherwise.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out email and address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        # Our users have a full name and an email (or, having claimed an account joined by
        # phone, none: the validator passes over an empty attribute), not Django's first and
        # last names.
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Eight spaces pass all four of Django's.
    {"NAME": "circle.security.NotOnlySpacesValidator"},
]
# Login attempts: after AXES_FAILURE_LIMIT failures for one email from one address, that pair is
# refused for AXES_COOLOFF_MINUTES; a success resets the count.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 15) / 60  # hours, as axes expects
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Axes would default to the USERNAME_FIELD ("email"), but Django's authenticate(), its
# user_login_failed signal and every login form call it "username": with "email", failures were
# counted for username None and the lockout never matched a later attempt.
AXES_USERNAME_FORM_FIELD = "username"
# Lower-cased, as emails are stored, so "Alice@" and "alice@" are one person's attempts.
AXES_USERNAME_CALLABLE = "circle.security.login_username"
AXES_VERBOSE = False
# Locked-out API sign-ins answer in the API's error format, not axes' HTML page.
AXES_LOCKOUT_CALLABLE = "circle.errors.lockout_response"
# Staff two-factor (members/two_factor.py): "required" makes every coordinator and operator
# sign in with a code from an authenticator app (or a recovery code) before any staff page or
# staff API token; "optional" lets each turn it on. Required in production, optional on a laptop.
STAFF_TWO_FACTOR = os.environ.get("STAFF_TWO_FACTOR", "optional" if DEBUG else "required")
if STAFF_TWO_FACTOR not in ("required", "optional"):
    raise ImproperlyConfigured(
        f"STAFF_TWO_FACTOR must be required or optional, not {STAFF_TWO_FACTOR!r}"
    )
# The name an authenticator app shows beside the code.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Circle")
# Set only behind a proxy that overwrites X-Forwarded-For and X-Forwarded-Proto itself.
TRUST_X_FORWARDED = envbool("TRUST_X_FORWARDED", False)
AXES_CLIENT_IP_CALLABLE = "circle.security.client_ip"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# Circles are in the UK: dates of birth, windows and paid years are read in London time.
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- REST framework and the API schema ------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token and session authentication (the session's CSRF refusal under a stable
        # code, csrf_failed); where STAFF_TWO_FACTOR is required, neither lets staff in without
        # their second factor (members/authentication.py).
        "members.authentication.TwoFactorTokenAuthentication",
        "members.authentication.TwoFactorSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # DRF's JSON parser with a cap on nesting (circle/parsers.py says why 32).
    "DEFAULT_PARSER_CLASSES": ["circle.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": (
        ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
        if DEBUG
        else ["rest_framework.renderers.JSONRenderer"]
    ),
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "circle.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "circle.schema.CircleAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {"signup": os.environ.get("SIGNUP_THROTTLE_RATE", "30/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Circle API",
    "DESCRIPTION": (
        "Membership circles: members buy tokens and ask vetted local helpers for help. "
        "Errors are {code, detail, field}."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# No broker: run tasks in-process at once, so a laptop needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it has run, not when it starts, and given back to the queue if its
# worker process dies (killed, out of memory), so no task is lost with a worker; every task is
# idempotent (matching/tasks.py, payments/tasks.py say why), so running one again acts once.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queueing happens after a request's commit (circle/queueing.py): with the broker down it must
# give up in about a second, not hang the request. Its rows are the outbox; the sweep sends them.
CELERY_BROKER_CONNECTION_TIMEOUT = envint("CELERY_BROKER_CONNECTION_TIMEOUT", 2)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    # How long a message taken but not acknowledged waits before Redis gives it to another
    # worker (a worker host lost whole): longer than any task runs.
    "visibility_timeout": 3600,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# The worker keeps trying to reach the broker at start-up, as it does later on.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Periodic jobs, run by `celery -A circle beat` (deploy/systemd/circle-beat.service). Each job
# claims its rows with a conditional update, so a second beat or a retried job acts once.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Payments. Hourly, so a worker that was down catches up the same day; each membership
    # period is acted on once.
    "payments-membership-daily": {"task": "payments.tasks.membership_daily", "schedule": 3600.0},
    # Members whose grace ends within a week: a last call before they lapse.
    "payments-grace-ending": {"task": "payments.tasks.grace_ending_sweep", "schedule": 3600.0},
    "payments-reconcile": {"task": "payments.tasks.payments_reconcile", "schedule": 900.0},
    # Tasks. Open tasks whose window has ended: expired, their holds released.
    "matching-expire-tasks": {"task": "matching.tasks.expire_tasks", "schedule": 300.0},
    # The next few helpers for tasks nobody accepted within a wave's time.
    "matching-offer-waves": {"task": "matching.tasks.offer_waves_due", "schedule": 300.0},
    # Occurrences of recurring tasks, booked MATCHING_SERIES_BOOK_AHEAD_DAYS ahead.
    # The coordinators' queue: requests soon with no helper, work nobody confirmed.
    "matching-attention-sweep": {"task": "matching.tasks.attention_sweep", "schedule": 900.0},
    # Helpers whose DBS certificate is more than three years old.
    "helpers-checks-due": {"task": "helpers.tasks.checks_due_sweep", "schedule": 86400.0},
    # Members lapsed for more than RETENTION_YEARS: reported on the desk, erased after notice.
    "payments-retention": {"task": "payments.tasks.retention_sweep", "schedule": 86400.0},
    "matching-book-series": {"task": "matching.tasks.book_series_ahead", "schedule": 3600.0},
    # The outboxes: notices and reminder emails whose own job never ran (the broker was down
    # when they were queued, or the job was lost). Each is claimed, so it goes once.
    "matching-notices-sweep": {"task": "matching.tasks.notices_sweep", "schedule": 60.0},
    "payments-reminder-emails": {
        "task": "payments.tasks.reminder_emails_outbox",
        "schedule": 300.0,
    },
}
# The sweeps send what has waited unsent at least this long (seconds; the queued job normally
# sends it within one), and nothing written longer ago than this many hours.
OUTBOX_SWEEP_AFTER_SECONDS = envint("OUTBOX_SWEEP_AFTER_SECONDS", 60)
OUTBOX_SWEEP_WITHIN_HOURS = envint("OUTBOX_SWEEP_WITHIN_HOURS", 24)

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# For django.core.mail.backends.filebased.EmailBackend: the directory it writes messages to.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", "")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Circle <circle@localhost>")

# --- Payments: Stripe, membership renewals -------------------------------------------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Lets tests and staging point the official library at a local server.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
# The library retries a failed call this often, with the same idempotency key.
STRIPE_MAX_NETWORK_RETRIES = envint("STRIPE_MAX_NETWORK_RETRIES", 2)
# A webhook signed longer ago than this (seconds) is refused as a replay.
STRIPE_WEBHOOK_TOLERANCE = envint("STRIPE_WEBHOOK_TOLERANCE", 300)
# Where Stripe Checkout sends the payer back to (`?checkout=paid` or `cancelled` is added).
STRIPE_CHECKOUT_RETURN_URL = os.environ.get("STRIPE_CHECKOUT_RETURN_URL", "http://127.0.0.1:8000")
# How many days a card payment link (`/pay/{token}/`, sent by an operator) can be followed.
PAY_LINK_MAX_AGE_DAYS = envint("PAY_LINK_MAX_AGE_DAYS", 7)
# A link to set a password (DESIGN.md's /claim/{token}/: a member joined by phone claiming their
# account, or a forgotten password by text) works once, for this many hours.
CLAIM_LINK_MAX_AGE_HOURS = envint("CLAIM_LINK_MAX_AGE_HOURS", 72)
# A gift link (family buying tokens for a member) is shared once and kept: it lasts longer.
GIFT_LINK_MAX_AGE_DAYS = envint("GIFT_LINK_MAX_AGE_DAYS", 90)
# Retention (payments/services/retention.py): the personal data of members lapsed for more than
# RETENTION_YEARS is erased (members/erasure.py), RETENTION_NOTICE_DAYS after the circle's
# coordinators were told on their desk. Six years: how long the law asks a charity to keep its
# accounts, and the time within which a claim may be brought.
RETENTION_YEARS = envint("RETENTION_YEARS", 6)
RETENTION_NOTICE_DAYS = envint("RETENTION_NOTICE_DAYS", 30)
# How far back reconciliation looks for paid sessions and invoices no webhook delivered.
STRIPE_RECONCILE_DAYS = envint("STRIPE_RECONCILE_DAYS", 3)
# DESIGN.md: grace lasts until the paid year ended 30 days ago.
MEMBERSHIP_GRACE_DAYS = envint("MEMBERSHIP_GRACE_DAYS", 30)
# Renewal reminders go out this many days before a paid year ends.
MEMBERSHIP_REMINDER_DAYS = envint("MEMBERSHIP_REMINDER_DAYS", 14)

# --- Money ----------------------------------------------------------------------------------
CURRENCIES = ("GBP",)
DEFAULT_CURRENCY = "GBP"

# --- Security (production) ------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Pages ----------------------------------------------------------------------------------
LOGIN_URL = "/sign-in/"
LOGIN_REDIRECT_URL = "/my/"
LOGOUT_REDIRECT_URL = "/"
# What a locked-out sign-in on the pages sees (circle.errors.lockout_response).
LOCKOUT_PAGE_TEMPLATE = "web/auth/locked_out.html"
CSRF_FAILURE_VIEW = "web.views.errors.csrf_failure"
# Scripts only from our own static files, plus the one inline snippet GOV.UK Frontend needs (the
# `js-enabled` class), which carries the per-request nonce. No CDN anywhere: the pages work
# offline, and nothing a member types leaves for a third party. Card details are typed on
# Stripe's own Checkout page, which is a redirect, not a frame.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    # The load balancer probes over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
if TRUST_X_FORWARDED:
    # Only behind a proxy that sets these headers itself; otherwise clients could forge them.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The twilio library logs every request's headers at INFO; its failures reach us as
    # exceptions, which messaging logs itself.
    "loggers": {"twilio.http_client": {"level": "WARNING"}},
}

# --- Tasks and matching ---------------------------------------------------------------------
# The longest estimate a booking may hold (8 hours): more is a typo or several tasks.
MATCHING_MAX_ESTIMATE_MINUTES = envint("MATCHING_MAX_ESTIMATE_MINUTES", 480)
# The most a helper may report for one task (12 hours).
MATCHING_MAX_REPORTED_MINUTES = envint("MATCHING_MAX_REPORTED_MINUTES", 720)
# How far ahead a task may be booked, and how long its window may be.
MATCHING_MAX_BOOK_AHEAD_DAYS = envint("MATCHING_MAX_BOOK_AHEAD_DAYS", 365)
MATCHING_MAX_WINDOW_DAYS = envint("MATCHING_MAX_WINDOW_DAYS", 7)
# How many helpers each wave of offers tells (how long a wave waits is each circle's own
# `offer_wave_minutes`).
MATCHING_OFFER_WAVE_SIZE = envint("MATCHING_OFFER_WAVE_SIZE", 3)
# How far ahead the occurrences of a recurring task are booked (each holds its tokens).
MATCHING_SERIES_BOOK_AHEAD_DAYS = envint("MATCHING_SERIES_BOOK_AHEAD_DAYS", 21)

# --- Text messages --------------------------------------------------------------------------
# circle.sms.ConsoleBackend prints them; production names a gateway: Twilio or GOV.UK Notify.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "circle.sms.ConsoleBackend")
TWILIO_BACKEND = "messaging.backends.TwilioBackend"
NOTIFY_BACKEND = "messaging.backends.NotifyBackend"
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
# The sender: a number in E.164, an alphanumeric sender id, or a Messaging Service ("MG...").
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
# Our public address for receipts, /api/v1/sms/twilio/status/ in full: sent with each message,
# and the URL the receipts' signatures are checked against.
TWILIO_STATUS_CALLBACK_URL = os.environ.get("TWILIO_STATUS_CALLBACK_URL", "")
# Lets tests and staging point the official library at a local server.
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "")
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
# A Notify SMS template whose whole text is ((body)).
NOTIFY_SMS_TEMPLATE_ID = os.environ.get("NOTIFY_SMS_TEMPLATE_ID", "")
# The bearer token set beside the callback URL in Notify's API integration settings.
NOTIFY_CALLBACK_TOKEN = os.environ.get("NOTIFY_CALLBACK_TOKEN", "")
# A text sender set up in Notify (blank: the service's default).
NOTIFY_SMS_SENDER_ID = os.environ.get("NOTIFY_SMS_SENDER_ID", "")
NOTIFY_API_BASE = os.environ.get("NOTIFY_API_BASE", "")

_SMS_NEEDS = {
    TWILIO_BACKEND: {
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM": TWILIO_FROM,
        "TWILIO_STATUS_CALLBACK_URL": TWILIO_STATUS_CALLBACK_URL,
    },
    NOTIFY_BACKEND: {
        "NOTIFY_API_KEY": NOTIFY_API_KEY,
        "NOTIFY_SMS_TEMPLATE_ID": NOTIFY_SMS_TEMPLATE_ID,
        # At least 10 characters, as Notify itself asks of a callback token.
        "NOTIFY_CALLBACK_TOKEN": NOTIFY_CALLBACK_TOKEN if len(NOTIFY_CALLBACK_TOKEN) >= 10 else "",
    },
}
if not DEBUG and SMS_BACKEND in _SMS_NEEDS:
    # Half a gateway sends nothing, or sends and never hears what became of a text: either way
    # members miss messages and nobody is told to phone them.
    _sms_missing = [name for name, value in _SMS_NEEDS[SMS_BACKEND].items() if not value]
    if _sms_missing:
        raise ImproperlyConfigured(
            f"SMS_BACKEND={SMS_BACKEND} needs these settings: " + ", ".join(_sms_missing)
        )
