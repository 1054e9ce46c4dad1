"""Django settings, read from the environment; the defaults are the embedded development set-up.

Names: a setting of ours carries no prefix (APPEAL_DAYS, SITE_URL, ...), as Django's own do; the
environment variable that sets it is VPNREGISTRY_ and its name (VPNREGISTRY_APPEAL_DAYS), except
DATABASE_URL, which every host knows. docs/configuration.md lists them. A renamed variable keeps its
old name as an alias (VPNREGISTRY_PUBLIC_URL for VPNREGISTRY_SITE_URL).

One file, longer than our modules' 500 lines: it is read top to bottom, each section beside the
variables it reads, and split it would hide which value wins.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from cryptography.fernet import Fernet

from vpnregistry.private_files import private_dir
from vpnregistry.signing.minisign import SignatureError, read_secret_key  # pure, no Django
from vpnregistry.siteurl import site_url_from

BASE_DIR = Path(os.environ.get("VPNREGISTRY_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("VPNREGISTRY_VAR", BASE_DIR / "var")).resolve()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("VPNREGISTRY_DEBUG", True)
SECRET_KEY = os.environ.get("VPNREGISTRY_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("VPNREGISTRY_SECRET_KEY must be set when VPNREGISTRY_DEBUG is off")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"


def _field_keys(text: str) -> list[bytes]:
    """VPNREGISTRY_FIELD_KEYS: comma-separated Fernet keys; the first encrypts, all decrypt."""
    keys = []
    for position, part in enumerate((p.strip() for p in text.split(",")), start=1):
        if not part:
            continue
        try:
            Fernet(part.encode())
        except (ValueError, TypeError):
            # The key itself is never repeated in the message.
            raise RuntimeError(
                f"VPNREGISTRY_FIELD_KEYS: key {position} is not a Fernet key (32 bytes, urlsafe base64; "
                "`vpnregistry rotate-field-keys --new-key` prints one)"
            ) from None
        keys.append(part.encode())
    return keys


# Keys of the columns encrypted at rest (identifiers). Without them, development makes one in
# `<keys folder>/field.key`; production refuses to start, as ciphertext under a forgotten key is lost.
FIELD_KEYS = _field_keys(os.environ.get("VPNREGISTRY_FIELD_KEYS", ""))
if not FIELD_KEYS and not DEBUG:
    raise RuntimeError("VPNREGISTRY_FIELD_KEYS must be set when VPNREGISTRY_DEBUG is off")
FIELD_KEY_FILE = os.environ.get("VPNREGISTRY_FIELD_KEY_FILE") or None

ALLOWED_HOSTS = [
    h for h in os.environ.get("VPNREGISTRY_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    # The regulator edits reference data (categories, their documents, agencies) in the admin.
    "vpnregistry.apps.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "vpnregistry.signing",
    "vpnregistry.accounts",
    "vpnregistry.audit",
    "vpnregistry.notifications",
    "vpnregistry.applications",
    "vpnregistry.registrations",
    "vpnregistry.restrictions",
    "vpnregistry.transparency",
    "vpnregistry.allowlist",
    "vpnregistry.portal",
    "vpnregistry.api",
    "vpnregistry.worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from STATIC_ROOT (below), before anything else reads the request.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A 404 under /api/ is JSON with debug on too (Django's debug page skips handler404).
    "vpnregistry.middleware.ApiNotFoundMiddleware",
    # A view's "database is locked" (or PostgreSQL's lock timeout, deadlock, serialization failure)
    # answers 503 with Retry-After; every other error stays a 500 (vpnregistry/busy.py).
    "vpnregistry.busy.BusyDatabaseMiddleware",
    # Refuses a body past its limit (413) before anything reads it; see REQUEST_BODY_LIMITS below.
    "vpnregistry.bodylimits.BodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "vpnregistry.middleware.RefuseNulMiddleware",
    # Operators' polls of the allowlist with a token, answered by the API's own code without the rest
    # of this stack and DRF's; anything else goes on (vpnregistry/allowlist/api/fastpath.py).
    "vpnregistry.allowlist.api.fastpath.AllowlistFastPath",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A login's response sets the language cookie to the account's stored language (accounts/language.py).
    "vpnregistry.accounts.language.LoginLanguageMiddleware",
    # Cache-Control: no-store on every answer to a signed-in caller: they may carry personal data.
    "vpnregistry.middleware.NoStoreMiddleware",
    # Two-factor: django-otp reads the verified device from the session; ours holds a session that
    # owes its second step at /login/otp/ (staff always, applicants who enrolled).
    "django_otp.middleware.OTPMiddleware",
    "vpnregistry.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

# Lockout after repeated failed logins (django-axes): per username and address together, so that
# nobody can lock another person out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("VPNREGISTRY_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("VPNREGISTRY_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked.html"
AXES_VERBOSE = False

# TOTP second factor (django-otp). After each wrong code the next try waits 1, 2, 4, 8, ... times
# this many seconds; a code's time step is never accepted twice.
OTP_TOTP_ISSUER = os.environ.get("VPNREGISTRY_TOTP_ISSUER", "vpnregistry")
OTP_TOTP_THROTTLE_FACTOR = max(1, int(os.environ.get("VPNREGISTRY_TOTP_THROTTLE_SECONDS", "1")))

ROOT_URLCONF = "vpnregistry.urls"
WSGI_APPLICATION = "vpnregistry.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

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
                "django.template.context_processors.i18n",
            ],
            # `{% load bidi %}`: values kept left to right inside Urdu text, and times shown in the
            # registry's zone; a core helper, not an app's, so that every layer's templates load it.
            "libraries": {"bidi": "vpnregistry.bidi"},
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'vpnregistry.sqlite3'}"
# Connections are kept for a minute between requests, and checked before each request reuses one:
# a connection that died with a database restart is replaced instead of failing that request.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _default_db, conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two approvals cannot interleave (DESIGN: storage).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # Kept between requests too: opening a connection and running the PRAGMAs above cost about 1.5 ms
    # of CPU, half of what serving an allowlist file costs (`make loadtest`). Restore writes into the
    # same file through the backup API, so kept connections see it.
    # The database's directory (var/ by default) and the database are the registry user's alone
    # (private_files.py; the files' modes are set when a process first connects).
    private_dir(
        Path(DATABASES["default"]["NAME"]).parent,
        tighten=Path(DATABASES["default"]["NAME"]).parent == VAR_DIR,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 for new passwords; older hashes still verify and are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ur", "اردو")]
# One catalogue for the whole project (src/vpnregistry/locale); docs/translations.md tells how to
# update it.
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
TIME_ZONE = os.environ.get("VPNREGISTRY_TIME_ZONE", "Asia/Karachi")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# The app serves its own static files (WhiteNoise): `vpnregistry collectstatic` copies them here. With
# debug off they are compressed and carry their hash in their names (cached for a year); a page that
# names a file missing from the collected manifest is then an error, not a stale stylesheet.
STATIC_ROOT = Path(os.environ.get("VPNREGISTRY_STATIC_ROOT", VAR_DIR / "static")).resolve()
# STORAGES (static files among them) is set below, with the registry's own file storages.
# Django's two finders, answering "not found" for a path that leaves the static folders (it was a
# SuspiciousFileOperation, a 500 from runserver's static handler).
STATICFILES_FINDERS = [
    "vpnregistry.static_finders.FileSystemFinder",
    "vpnregistry.static_finders.AppDirectoriesFinder",
]
MEDIA_ROOT = VAR_DIR / "media"

# Request body limits, set deliberately (issue 7). Django's own limits apply to form fields and to
# `request.body`; the middleware also refuses by Content-Length, for every route, JSON bodies that
# DRF would otherwise parse from the stream without a limit. Uploads (multipart) get more room for
# their files (evidence and documents are 5 MB each). The bulk exemption check streams a body of
# millions of addresses to disk and has a limit of its own.
_MIB = 1 << 20
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("VPNREGISTRY_MAX_BODY_BYTES", str(2 * _MIB)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000  # a resources form of some hundreds of rows, three fields each
DATA_UPLOAD_MAX_NUMBER_FILES = 20
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * _MIB  # larger files go to a temporary file, not memory
MAX_UPLOAD_BYTES = int(os.environ.get("VPNREGISTRY_MAX_UPLOAD_BYTES", str(30 * _MIB)))
EXEMPTIONS_MAX_BODY_BYTES = int(os.environ.get("VPNREGISTRY_EXEMPTIONS_MAX_BODY_BYTES", str(1024 * _MIB)))
# Bulk exemption checks up to this size are answered in the request; larger ones (or any asked with
# `Prefer: respond-async`) become jobs, answered by a task, whose files are kept this long.
EXEMPTIONS_SYNC_MAX_BYTES = int(os.environ.get("VPNREGISTRY_EXEMPTIONS_SYNC_MAX_BYTES", str(50 * _MIB)))
EXEMPTION_JOBS_DIR = Path(os.environ.get("VPNREGISTRY_EXEMPTION_JOBS_DIR", VAR_DIR / "exemption-jobs"))
EXEMPTION_JOB_SECONDS = int(os.environ.get("VPNREGISTRY_EXEMPTION_JOB_SECONDS", str(24 * 3600)))
# URL names whose views read and limit their bodies themselves, and the limit the middleware applies.
REQUEST_BODY_LIMITS = {"api:exemption-check": "EXEMPTIONS_MAX_BODY_BYTES"}

# Email: printed to the console in development, sent by SMTP in production (debug off).
EMAIL_BACKEND = os.environ.get(
    "VPNREGISTRY_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("VPNREGISTRY_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("VPNREGISTRY_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("VPNREGISTRY_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("VPNREGISTRY_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _flag("VPNREGISTRY_EMAIL_STARTTLS", False)
EMAIL_USE_SSL = _flag("VPNREGISTRY_EMAIL_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("VPNREGISTRY_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("VPNREGISTRY_FROM_EMAIL", "registry@vpnregistry.invalid")
# Tries of one email before it is given up on and listed for officers (pauses double from a minute,
# at most an hour: 12 tries span about six hours). See notifications/mail.py.
MAIL_ATTEMPTS = max(1, int(os.environ.get("VPNREGISTRY_MAIL_ATTEMPTS", "12")))

# Web security. Pages load nothing inline and nothing from elsewhere (django-csp sets the header).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_AGE = int(os.environ.get("VPNREGISTRY_SESSION_SECONDS", str(8 * 3600)))
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = _flag("VPNREGISTRY_SSL_REDIRECT", True)
    # Load balancers and Prometheus reach each server directly, over plain HTTP, inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("VPNREGISTRY_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if _flag("VPNREGISTRY_BEHIND_PROXY", False):
        # Only behind a proxy that sets this header itself; never trust it from clients directly.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "vpnregistry.accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "vpnregistry.api.renderers.TextJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # DRF's JSON parser, refusing nesting deeper than any request needs (a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": [
        "vpnregistry.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "vpnregistry.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "vpnregistry.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "vpnregistry.throttling.AnonymousRate",
        "vpnregistry.throttling.TokenRate",
    ],
    # Whose address a request is: unset, DRF would take X-Forwarded-For from anyone, and a client
    # could claim a new address (a fresh budget) with every request.
    "NUM_PROXIES": 1 if _flag("VPNREGISTRY_BEHIND_PROXY", False) else 0,
}
# Requests a minute: per address for anonymous callers, per user (so per operator's token) otherwise.
THROTTLE_RATES = {
    "anon": os.environ.get("VPNREGISTRY_THROTTLE_ANON", "120/min"),
    "user": os.environ.get("VPNREGISTRY_THROTTLE_USER", "1200/min"),
    # Public lookups by certificate code or status secret, per address, portal and API together.
    "lookup": os.environ.get("VPNREGISTRY_THROTTLE_LOOKUP", "30/min"),
}

# The cache: the throttles' counters (DRF's, the lookup limit, the allowlist's fast path) and the
# public statistics. Several processes or servers must share one, or each counts its own budget:
# Redis, `redis://host:6379/1`. Without it, each process keeps its own in memory (development).
# django-axes counts failed logins in the database, shared already.
CACHE_URL = os.environ.get("VPNREGISTRY_CACHE_URL", "").strip()
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "vpnregistry",
            # A Redis that stops answering fails a request in seconds rather than holding it.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Monitoring: `/readyz` gives each backend this long to answer; `/metrics` answers the monitoring
# network (comma-separated CIDRs, the client address as the throttles see it) or the bearer token.
READYZ_TIMEOUT_SECONDS = float(os.environ.get("VPNREGISTRY_READYZ_TIMEOUT", "2"))
METRICS_NETWORKS = [
    n.strip()
    for n in os.environ.get("VPNREGISTRY_METRICS_NETWORKS", "127.0.0.1/32,::1/128").split(",")
    if n.strip()
]
for _network in METRICS_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise RuntimeError(f"VPNREGISTRY_METRICS_NETWORKS: {_network!r} is not a network (CIDR)") from None
METRICS_TOKEN = os.environ.get("VPNREGISTRY_METRICS_TOKEN", "")
# Applications approved, rejected or withdrawn (most of them) are counted at most this often.
METRICS_CLOSED_COUNTS_SECONDS = int(os.environ.get("VPNREGISTRY_METRICS_CLOSED_COUNTS_SECONDS", "300"))

SPECTACULAR_SETTINGS = {
    "TITLE": "vpnregistry API",
    "DESCRIPTION": "Apply, verify, attest, decide and download the signed allowlist.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStateEnum": "vpnregistry.applications.models.Application.State",
        "ResourceStateEnum": "vpnregistry.applications.models.Resource.State",
        "ResourceKindEnum": "vpnregistry.applications.models.Resource.Kind",
        "OperatorKindEnum": "vpnregistry.accounts.models.Operator.Kind",
        "ComplaintStateEnum": "vpnregistry.restrictions.models.Complaint.State",
        "RegistrationStateEnum": "vpnregistry.registrations.models.Registration.State",
        "ReviewDecisionEnum": [("approve", "approve"), ("reject", "reject"), ("return", "return")],
        "AttestationDecisionEnum": [("approve", "approve"), ("reject", "reject")],
        "AppealDecisionEnum": [("uphold", "uphold"), ("dismiss", "dismiss")],
    },
}

# API tokens last this long; then a new one is issued (`vpnregistry tokens issue USER`).
API_TOKEN_DAYS = int(os.environ.get("VPNREGISTRY_TOKEN_DAYS", "365"))
# A token's time of last use is written when older than this: at most one write a minute per token.
API_TOKEN_LAST_USED_SECONDS = int(os.environ.get("VPNREGISTRY_TOKEN_LAST_USED_SECONDS", "60"))

# Categories whose holders are people, not companies: the public certificate check does not name them.
INDIVIDUAL_CATEGORIES = [
    c for c in os.environ.get("VPNREGISTRY_INDIVIDUAL_CATEGORIES", "freelancer").split(",") if c
]

# Registry policy; the regulator can change these later through settings of its own.
REGISTRATION_VALIDITY_DAYS = int(os.environ.get("VPNREGISTRY_VALIDITY_DAYS", "365"))
# The fee: an application that takes the organisation to this many registered addresses or more
# (and every later one) pays this much per address it asks for, in PKR.
FEE_THRESHOLD = int(os.environ.get("VPNREGISTRY_FEE_THRESHOLD", "5"))
FEE_PER_ADDRESS = os.environ.get("VPNREGISTRY_FEE_PER_ADDRESS", "1000")
# Resources an organisation may enter in an hour (a new application, an edit; every row of
# a CSV file counts): whoever probes which resources are held, or floods the reviewers, stops here.
# 0 for no limit.
RESOURCES_PER_HOUR = int(os.environ.get("VPNREGISTRY_RESOURCES_PER_HOUR", "500"))
# Days after a rejection during which the applicant may appeal.
APPEAL_DAYS = int(os.environ.get("VPNREGISTRY_APPEAL_DAYS", "30"))
# An operator's row of downloads is written when the serial it fetched changes, else at most this often.
DOWNLOAD_NOTE_SECONDS = int(os.environ.get("VPNREGISTRY_DOWNLOAD_NOTE_SECONDS", "60"))
# A snapshot is published at most this often; changes in between wait for the next one.
# How often the scheduled job recomputes the public statistics (pages only read what it stored).
STATISTICS_REFRESH_SECONDS = int(os.environ.get("VPNREGISTRY_STATISTICS_REFRESH", "600"))
# 30 s in production: with operators syncing every minute, an approval reaches their firewalls within
# two; none in development and tests.
ALLOWLIST_MIN_INTERVAL_SECONDS = int(
    os.environ.get("VPNREGISTRY_ALLOWLIST_MIN_INTERVAL", "0" if DEBUG else "30")
)
# Published files (every format of every serial, deltas, the signed index) and the signing keys.
ALLOWLIST_DIR = Path(os.environ.get("VPNREGISTRY_ALLOWLIST_DIR", VAR_DIR / "allowlist"))
ALLOWLIST_KEYS_DIR = Path(os.environ.get("VPNREGISTRY_KEYS_DIR", VAR_DIR / "keys"))

# Organisations' documents: a private folder, never under STATIC_ROOT or MEDIA_ROOT; only views that
# check who asks serve them.
DOCUMENTS_DIR = Path(os.environ.get("VPNREGISTRY_DOCUMENTS_DIR", VAR_DIR / "documents"))
# Complaint evidence: a private folder like the documents.
EVIDENCE_DIR = Path(os.environ.get("VPNREGISTRY_EVIDENCE_DIR", VAR_DIR / "complaints"))
# Where files live (vpnregistry/storage.py, docs/operations.md "Storage"): each kind is a named
# storage, by default a private folder (the settings above); with VPNREGISTRY_S3_BUCKET, an
# S3-compatible object store shared by every app server, each kind under a key prefix of its own.
S3_BUCKET = os.environ.get("VPNREGISTRY_S3_BUCKET", "")
# Allowlist downloads are handed to the store by a signed URL valid this long (302); 0: streamed here.
S3_REDIRECT_SECONDS = int(os.environ.get("VPNREGISTRY_S3_REDIRECT_SECONDS", "0"))
_FILE_KINDS = {
    "allowlist": "ALLOWLIST_DIR",
    "documents": "DOCUMENTS_DIR",
    "evidence": "EVIDENCE_DIR",
    "jobs": "EXEMPTION_JOBS_DIR",
}
if S3_BUCKET:
    _S3_OPTIONS = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": os.environ.get("VPNREGISTRY_S3_ENDPOINT_URL") or None,
        "access_key": os.environ.get("VPNREGISTRY_S3_ACCESS_KEY") or None,
        "secret_key": os.environ.get("VPNREGISTRY_S3_SECRET_KEY") or None,
        "region_name": os.environ.get("VPNREGISTRY_S3_REGION") or None,
        # Another store than AWS's (MinIO, Ceph, ...) is addressed by path: bucket names need no DNS.
        "addressing_style": os.environ.get("VPNREGISTRY_S3_ADDRESSING_STYLE")
        or ("path" if os.environ.get("VPNREGISTRY_S3_ENDPOINT_URL") else None),
        "default_acl": None,  # private: every download goes through the registry's checks
        "querystring_auth": True,
        "signature_version": "s3v4",  # signed URLs as every region and store accepts them
        "file_overwrite": True,  # a name is kept as given (a republished serial replaces its files)
        "max_memory_size": 8 * _MIB,  # an object read whole spills to disk past this
    }
    _S3_PREFIX = os.environ.get("VPNREGISTRY_S3_PREFIX", "").strip("/")
    FILE_STORAGES = {
        kind: {
            "BACKEND": "vpnregistry.objectstore.ObjectStorage",
            "OPTIONS": {**_S3_OPTIONS, "location": f"{_S3_PREFIX}/{kind}" if _S3_PREFIX else kind},
        }
        for kind in _FILE_KINDS
    }
else:
    FILE_STORAGES = {
        kind: {"BACKEND": "vpnregistry.storage.FolderStorage", "OPTIONS": {"setting": setting}}
        for kind, setting in _FILE_KINDS.items()
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Served by the app itself (WhiteNoise): with debug off, compressed and named by their hash.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    **FILE_STORAGES,
}
# Documents are deleted this many days after the organisation's last registration ends
# (`vpnregistry purge-documents`, from cron).
DOCUMENT_RETENTION_DAYS = int(os.environ.get("VPNREGISTRY_DOCUMENT_RETENTION_DAYS", "365"))
# A sign-up's email link works for this long; an invitation to join an organisation for this long.
SIGNUP_LINK_SECONDS = int(os.environ.get("VPNREGISTRY_SIGNUP_LINK_SECONDS", str(2 * 24 * 3600)))
INVITATION_LINK_SECONDS = int(os.environ.get("VPNREGISTRY_INVITATION_LINK_SECONDS", str(7 * 24 * 3600)))
# The registry's public address (https://registry.example), as people reach it: links in emails start
# with it, and certificates' QR codes print its check page. Read from "VPNREGISTRY_SITE_URL"; when that
# is unset or empty, from "VPNREGISTRY_PUBLIC_URL" (the certificates' former name for it, still read);
# the first wins when both are set. Empty when neither is: a certificate then prints the address of
# the request that downloads it, and emails the development server's (vpnregistry/siteurl.py).
SITE_URL = site_url_from(os.environ)
# How many recent deltas the index lists; older clients fetch the whole snapshot.
ALLOWLIST_INDEX_DELTAS = int(os.environ.get("VPNREGISTRY_INDEX_DELTAS", "500"))
# How long the next key is announced before `vpnregistry keys rotate` may switch to it.
ALLOWLIST_KEY_ANNOUNCE_SECONDS = int(os.environ.get("VPNREGISTRY_KEY_ANNOUNCE_SECONDS", "86400"))


def _signing_key_file(variable: str) -> str | None:
    """A signing key file named by `variable`, checked now: a server must not start without its key."""
    path = os.environ.get(variable, "").strip()
    if not path:
        return None
    try:
        read_secret_key(path)
    except OSError as exc:
        raise RuntimeError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    except SignatureError as exc:
        raise RuntimeError(f"{variable}: {path} is not a signing key: {exc}") from None
    return path


# The allowlist's signing key (also of audit checkpoints and statements), and the next one announced
# in the index. Production is given them, so that every server signs with the same key and rotation
# is a deploy; development makes its own under ALLOWLIST_KEYS_DIR (signing/keys.py).
SIGNING_KEY_FILE = _signing_key_file("VPNREGISTRY_SIGNING_KEY_FILE")
SIGNING_NEXT_KEY_FILE = _signing_key_file("VPNREGISTRY_SIGNING_NEXT_KEY_FILE")
if not SIGNING_KEY_FILE and not DEBUG:
    raise RuntimeError(
        "VPNREGISTRY_SIGNING_KEY_FILE must name the allowlist signing key when VPNREGISTRY_DEBUG is off "
        "(`vpnregistry make-signing-key PATH` makes one)"
    )
if SIGNING_NEXT_KEY_FILE and not SIGNING_KEY_FILE:
    raise RuntimeError("VPNREGISTRY_SIGNING_NEXT_KEY_FILE is given without VPNREGISTRY_SIGNING_KEY_FILE")

# Celery (vpnregistry/worker/): the broker is RabbitMQ (amqp://...) or Redis (redis://...). Without
# one, the embedded default, every task runs in the process that asks for it, once its transaction
# has committed. Tasks are acknowledged late and are idempotent: a worker killed mid-task leaves its
# task to run again elsewhere, with the same result.
CELERY_BROKER_URL = os.environ.get("VPNREGISTRY_BROKER_URL", "")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("VPNREGISTRY_BROKER_QUEUE", "vpnregistry")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# Redis hands an unacknowledged task to another worker only after this long (RabbitMQ at once, when
# the worker's connection drops): longer than any task takes.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE_FILENAME = VAR_DIR / "celerybeat-schedule"
CELERY_BEAT_SCHEDULE = {
    # A safety net: a change asks for publication itself; this catches what a crash left due.
    "publish": {"task": "vpnregistry.publish", "schedule": 60.0},
    # Likewise for email: each notification asks for it; this sends what waited for a retry.
    "send-mail": {"task": "vpnregistry.send_mail", "schedule": 60.0},
    "sweep": {"task": "vpnregistry.sweep", "schedule": 15 * 60.0},
    "escalate": {"task": "vpnregistry.escalate", "schedule": 30 * 60.0},
    "refresh-statistics": {
        "task": "vpnregistry.refresh_statistics",
        "schedule": float(STATISTICS_REFRESH_SECONDS),
    },
    # Daily, in the registry's time zone (CELERY_TIMEZONE), as the cron table had them.
    "checkpoint": {"task": "vpnregistry.checkpoint", "schedule": crontab(hour=0, minute=10)},
    "verify-log": {"task": "vpnregistry.verify_log", "schedule": crontab(hour=0, minute=30)},
    "purge-documents": {"task": "vpnregistry.purge_documents", "schedule": crontab(hour=1, minute=45)},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_identifiers": {"()": "vpnregistry.logfilters.RedactIdentifiers"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_identifiers"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("VPNREGISTRY_LOG_LEVEL", "WARNING")},
}
