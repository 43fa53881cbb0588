"""Django settings, read from the environment (see README "Settings").

The embedded default needs no server: SQLite under ``var/``, a filesystem Celery broker under ``var/``, and the AWS
sandbox. Production sets ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``AWS_MODE=live``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_choice, env_float, env_int, env_list, env_optional, env_str
from portal.ratebudget import DEFAULT_SIZES as DEFAULT_BUDGET_SIZES
from portal.ratebudget import parse_sizes

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
_secret = env_optional("SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE).")
    _secret = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 - only reachable with DEBUG on
SECRET_KEY = _secret
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "portal.admin_apps.PortalAdminConfig",  # django.contrib.admin, every write audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "portal",
    "domains",
    "profiles",
    "costs",
    "onboarding",
    "changesets",
    "governance",
    "backfill",
    "iamaccess",
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
    # After the user and HTMX are known (its 400 page shows them), before any view, form or serializer runs.
    "portal.validation.BadInputMiddleware",
    "portal.security.PortalCSPMiddleware",
    # Last: it turns a login refused by the throttle into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

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
                "portal.context_processors.portal",
            ],
            "builtins": ["portal.templatetags.portal_tags"],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in the demo: WAL lets readers go on while one process writes,
    # IMMEDIATE transactions avoid the "database is locked" upgrade deadlock.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery -----------------------------------------------------------------------------------------------------
REDIS_URL = env_optional("REDIS_URL")
CELERY_QUEUE_DIR = VAR_DIR / "celery-queue"
CELERY_BROKER_URL = env_optional("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
# Redis: a task a worker took but never finished (the worker died) is handed out again after this many seconds. No
# task runs long (provisioning re-enqueues itself to wait for AWS); work whose worker died is handed out again sooner
# by the heartbeat sweep (PROVISION_STALE_SECONDS), and a late redelivery finds a newer hand-out and stops.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
if CELERY_VISIBILITY_TIMEOUT < 60:
    # A short timeout (tests) also wants the abandoned messages looked for often, not every 100 s.
    CELERY_BROKER_TRANSPORT_OPTIONS.update(unacked_restore_interval=1, unacked_restore_throttle=1)
if CELERY_BROKER_URL == "filesystem://":
    CELERY_QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    (CELERY_QUEUE_DIR / "processed").mkdir(exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
# The filesystem transport cannot share broadcast (pidbox) queues between processes safely: with it, workers take
# no remote-control commands and exchange no gossip (kombu issue 1551).
CELERY_WORKER_ENABLE_REMOTE_CONTROL = CELERY_BROKER_URL != "filesystem://"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Progress and outcomes live in database rows (task runs), not in a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- AWS --------------------------------------------------------------------------------------------------------
AWS_MODE = env_choice("AWS_MODE", "sandbox", ("sandbox", "live"))
AWS_ENDPOINT_URL = env_optional("AWS_ENDPOINT_URL")
# Sandbox mode without AWS_ENDPOINT_URL refuses to start (it would reach the real AWS endpoints), except where the
# sandbox intercepts boto3 in the same process: the test suite sets this.
AWS_SANDBOX_IN_PROCESS = env_bool("AWS_SANDBOX_IN_PROCESS", False)
# The sandbox server (``manage.py sandbox``, so the demo) answers calls beyond AWS-like token buckets with throttling.
AWS_SANDBOX_RATE_LIMITS = env_bool("AWS_SANDBOX_RATE_LIMITS", True)
AWS_DEFAULT_REGION = env_str("AWS_DEFAULT_REGION", "us-east-1")
# How long Studio lifecycles take in the sandbox server (`manage.py sandbox`; the demo uses "demo"): "0" instant,
# "demo" a few seconds each, a number for every transition, or "app.delete=20,space.create=5". Read by the sandbox
# command only (awssandbox.clock.parse_setting checks it there).
AWS_SANDBOX_LIFECYCLE_SECONDS = env_str("AWS_SANDBOX_LIFECYCLE_SECONDS", "0")
AWS_RETRY_MODE = env_choice("AWS_RETRY_MODE", "adaptive", ("standard", "adaptive"))
AWS_MAX_ATTEMPTS = env_int("AWS_MAX_ATTEMPTS", 8, minimum=1, maximum=20)
AWS_CONNECT_TIMEOUT = env_float("AWS_CONNECT_TIMEOUT", 5.0, minimum=0.1)
AWS_READ_TIMEOUT = env_float("AWS_READ_TIMEOUT", 30.0, minimum=0.1)
# The rate budget (portal.ratebudget): every AWS call takes a slot from a token bucket per (account, region,
# service), shared by every worker (in Redis when Redis is the broker). "service=rate/burst" entries, "*" for the
# services not named; the environment's entries replace the defaults below one by one. Sources of the defaults:
# - sagemaker 20/20: ASSUMED. AWS publishes no request rates for the Studio control plane ("Amazon SageMaker AI
#   endpoints and quotas" lists resource counts only); the sandbox assumes 20 reads a second with a burst of 40
#   (awssandbox.limits). The budget keeps that rate with half the burst, so it never empties AWS's bucket.
# - ce 5/5: ASSUMED, the Cost Explorer rate commonly seen (its user guide says only that requests are throttled).
# - tagging 10/10: ASSUMED (the Resource Groups Tagging API publishes no GetResources rate).
# - sts 50/50: ASSUMED, far under STS's documented quotas (hundreds of requests a second per account).
# - iam 10/10, organizations 5/5, *: 10/10: ASSUMED.
AWS_RATE_BUDGET = env_bool("AWS_RATE_BUDGET", True)
AWS_RATE_BUDGETS = {
    **parse_sizes(DEFAULT_BUDGET_SIZES),
    **parse_sizes(env_str("AWS_RATE_BUDGETS", "")),
}
# "auto": Redis when the broker is Redis (or AWS_RATE_BUDGET_REDIS_URL is set), else in this process.
AWS_RATE_BUDGET_STORE = env_choice("AWS_RATE_BUDGET_STORE", "auto", ("auto", "redis", "local"))
AWS_RATE_BUDGET_REDIS_URL = env_optional("AWS_RATE_BUDGET_REDIS_URL")
# AIMD: a throttled call multiplies the bucket's rate by DECREASE (once a second at most), never below MIN_RATE; each
# second without throttling gives back INCREASE calls a second, up to the size above.
AWS_RATE_BUDGET_DECREASE = env_float("AWS_RATE_BUDGET_DECREASE", 0.5, minimum=0.05)
AWS_RATE_BUDGET_INCREASE = env_float("AWS_RATE_BUDGET_INCREASE", 0.5, minimum=0.001)
AWS_RATE_BUDGET_MIN_RATE = env_float("AWS_RATE_BUDGET_MIN_RATE", 0.5, minimum=0.01)
if AWS_RATE_BUDGET_DECREASE >= 1:
    raise ImproperlyConfigured("AWS_RATE_BUDGET_DECREASE must be below 1 (it multiplies the rate on throttling).")
# The one retry policy after botocore's own retries (portal.aws.retry_policy): a sync step, a cost ingestion step, a
# provisioning call and a Celery task's countdown all try a throttled, 5xx or unreachable call this many times in
# all, waiting AWS_STEP_RETRY_SECONDS, then twice as long each time up to AWS_STEP_RETRY_MAX_SECONDS, with jitter.
AWS_STEP_ATTEMPTS = env_int("AWS_STEP_ATTEMPTS", 5, minimum=1, maximum=20)
AWS_STEP_RETRY_SECONDS = env_float("AWS_STEP_RETRY_SECONDS", 2.0, minimum=0.0)
AWS_STEP_RETRY_MAX_SECONDS = env_float("AWS_STEP_RETRY_MAX_SECONDS", 60.0, minimum=0.0)
# Studio: how long a session opened from the portal lasts, and where SSO users sign in instead.
STUDIO_SESSION_SECONDS = env_int("STUDIO_SESSION_SECONDS", 43200, minimum=1800, maximum=43200)
SSO_ACCESS_PORTAL_URL = env_str("SSO_ACCESS_PORTAL_URL", "")
# Provisioning approved requests: how often to ask AWS whether a new profile or space is InService (the task asks
# once and re-enqueues itself with this countdown) and until when (a deadline stored on the request).
PROVISION_POLL_SECONDS = env_float("PROVISION_POLL_SECONDS", 5.0, minimum=0.0)
PROVISION_WAIT_SECONDS = env_int("PROVISION_WAIT_SECONDS", 900, minimum=1)
# Deleting (a space's apps, then the space; an offboarding step) waits for AWS the same way, until this long after
# the wait began: AWS says app deletion can take up to 20 minutes.
DELETION_WAIT_SECONDS = env_int("DELETION_WAIT_SECONDS", 2700, minimum=1)
# Work (a request being provisioned or deleted, an offboarding) whose task's heartbeat stopped for this long is handed
# to a worker again by the sweep beat runs every PROVISION_SWEEP_SECONDS; approvers may retry it at once from then.
PROVISION_STALE_SECONDS = env_int("PROVISION_STALE_SECONDS", 120, minimum=1)
PROVISION_SWEEP_SECONDS = env_int("PROVISION_SWEEP_SECONDS", 60, minimum=1)
if PROVISION_STALE_SECONDS <= 2 * PROVISION_POLL_SECONDS:
    raise ImproperlyConfigured(
        f"PROVISION_STALE_SECONDS ({PROVISION_STALE_SECONDS}) must be more than twice PROVISION_POLL_SECONDS "
        f"({PROVISION_POLL_SECONDS:g}): a task waiting for AWS refreshes its heartbeat once per poll."
    )
# A team lead is reminded this many days before a shared space expires.
SPACE_EXPIRY_REMINDER_DAYS = env_int("SPACE_EXPIRY_REMINDER_DAYS", 7, minimum=1, maximum=60)
AWS_ASSUME_ROLE_SESSION_NAME = env_str("AWS_ASSUME_ROLE_SESSION_NAME", "sagemaker-governance-portal")
if AWS_MODE == "live" and AWS_ENDPOINT_URL:
    raise ImproperlyConfigured("AWS_ENDPOINT_URL points at the sandbox; it must be unset when AWS_MODE=live.")

# --- Email ------------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SageMaker governance portal <portal@localhost>")
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# Every email is a row (portal.mail) sent by a task: SMTP and connection errors are retried this many times, the
# first after about this many seconds, doubling each time (capped at an hour); then the email is marked failed.
MAIL_MAX_RETRIES = env_int("MAIL_MAX_RETRIES", 8, minimum=0, maximum=20)
MAIL_RETRY_SECONDS = env_int("MAIL_RETRY_SECONDS", 30, minimum=1)
# An email still queued (or left sending by a dead worker) after this long is handed to a worker again.
MAIL_STALE_MINUTES = env_int("MAIL_STALE_MINUTES", 15, minimum=1)

# --- Auth, i18n, static -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at start-up when its root is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or not env_bool("STATIC_MANIFEST", True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# HTTPS only, once the portal is served over TLS (off by default: the demo and tests run on plain HTTP). Behind a
# TLS proxy set BEHIND_TLS_PROXY too, or the redirect loops. /healthz stays reachable over HTTP for local probes.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# Content-Security-Policy: scripts and styles only from the portal's own static files (HTMX, Chart.js and the
# portal's scripts are vendored; no template has an inline script, style or event handler). HTMX's own indicator
# style is switched off in base.html (htmx-config) and lives in portal.css instead. The API's third-party HTML pages
# (browsable API, Swagger UI) may also use inline styles (portal.security).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling (django-axes) on every password form: the portal's and the admin's login pages, the API's
# browsable login and POST /api/auth/token/. After LOGIN_FAILURE_LIMIT failures in a row for one user name from one
# address, that pair is refused for LOGIN_COOLOFF_MINUTES (HTTP 429, with the reason); a success resets the count.
AUTHENTICATION_BACKENDS = [
    "portal.throttling.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.throttling.client_ip"
AXES_VERBOSE = False

# API tokens (portal.apitokens): how long a new token lasts unless its maker says, and the most it may last.
API_TOKEN_DEFAULT_DAYS = env_int("API_TOKEN_DEFAULT_DAYS", 90, minimum=1, maximum=3650)
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365, minimum=1, maximum=3650)

# Log in with the company's identity provider (portal.sso, OpenID Connect with PKCE): set the issuer, the client id
# and its secret; the endpoints come from the issuer's discovery document. Without OIDC_ISSUER the login page offers
# the password form only. Local accounts keep working either way (a break-glass admin).
OIDC_ISSUER = env_str("OIDC_ISSUER", "").rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (or _FILE) too.")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "SSO")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile groups")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 10.0, minimum=0.5)
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_CREATE_USER = env_bool("OIDC_CREATE_USER", True)
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"
if OIDC_ISSUER:
    AUTHENTICATION_BACKENDS.append("portal.sso.PortalOIDCBackend")

# --- REST API ---------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.apitokens.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.pagination.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The API's schema and docs: for logged-in users (and tokens) only, unless made public.
API_SCHEMA_PUBLIC = env_bool("API_SCHEMA_PUBLIC", False)
SPECTACULAR_SETTINGS = {
    "TITLE": "SageMaker governance portal API",
    "DESCRIPTION": "Inventory, onboarding, spend and governance of many Amazon SageMaker domains.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["portal.api.SchemaAccess"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.openapi.declare_error_responses",
    ],
    # Swagger UI and Redoc from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a status field with their own choices; name each set after its model.
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "onboarding.models.Request.Status",
        "OffboardingStatusEnum": "onboarding.models.Offboarding.Status",
        "TaskRunStatusEnum": "portal.models.TaskRun.Status",
        "FindingStatusEnum": "governance.models.Finding.Status",
        "AttributionRuleKindEnum": "backfill.models.AttributionRule.Kind",
        "RoleUseKindEnum": "iamaccess.models.RoleUse.Kind",
        "GeneratedPolicyKindEnum": "iamaccess.generator.POLICY_KINDS",
        "ApiTokenStateEnum": "portal.apitokens.TOKEN_STATES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
    },
}

# The readiness page asks AWS who the portal is at most once per this many seconds (per web process).
HEALTH_AWS_CACHE_SECONDS = env_int("HEALTH_AWS_CACHE_SECONDS", 60, minimum=0)

CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.heartbeat", "schedule": env_int("HEARTBEAT_SECONDS", 60, minimum=5)},
}
CELERY_BEAT_SCHEDULE["resend-stalled-mail"] = {"task": "portal.resend_stalled_mail", "schedule": 60 * 5}
CELERY_BEAT_SCHEDULE["inventory-sync"] = {
    "task": "domains.scheduled_inventory_sync",
    "schedule": 60 * env_int("INVENTORY_SYNC_MINUTES", 30, minimum=1),
}
CELERY_BEAT_SCHEDULE["directory-sync"] = {
    "task": "domains.scheduled_directory_sync",
    "schedule": 60 * env_int("DIRECTORY_SYNC_MINUTES", 60, minimum=1),
}
# A domain whose members were last synced longer ago than this is shown as stale.
INVENTORY_STALE_MINUTES = env_int("INVENTORY_STALE_MINUTES", 120, minimum=1)

# Cost Explorer restates recent days: each ingestion after the first re-fetches this many days.
COST_RESTATED_DAYS = env_int("COST_RESTATED_DAYS", 14, minimum=1, maximum=90)
# PostgreSQL's memory for the sorts of one cost ingestion's transaction (its window's GROUP BYs), in MB: 256 sorts a
# 1.1-million-record first load in memory instead of on disk. The database's, not the worker's.
COST_INGEST_WORK_MEM_MB = env_int("COST_INGEST_WORK_MEM_MB", 256, minimum=4, maximum=8192)
CELERY_BEAT_SCHEDULE["cost-ingestion"] = {
    "task": "costs.scheduled_cost_ingestion",
    "schedule": 3600 * env_int("COST_INGESTION_HOURS", 6, minimum=1),
}
# The Celery queue of the cost ingestion's tasks. "celery" (the default queue) in one box; production gives it its
# own worker pool (COST_QUEUE=costs, `celery -A portal worker -Q costs`) so a 13-month load never delays provisioning.
COST_QUEUE = env_str("COST_QUEUE", "celery")
# The Celery queue of the inventory sync's tasks (the run, its account-regions, its domains' members). Their time is
# spent waiting for the AWS rate budget, not on a CPU: production gives them their own pool of threads
# (SYNC_QUEUE=sync, `celery -A portal worker -Q sync --pool threads --concurrency 32`), so a sync of every account
# never holds the slots that provisioning and mail need.
SYNC_QUEUE = env_str("SYNC_QUEUE", "celery")
SYNC_TASKS = ("domains.run_inventory_sync", "domains.sync_account_region", "profiles.sync_domain_members")
CELERY_TASK_ROUTES = {name: {"queue": SYNC_QUEUE} for name in SYNC_TASKS}
# The cost dashboard's figures are cached per (ingestion, scope, filters) for at most this long; 0 turns it off. An
# ingestion changes the key, so the figures are never older than the data.
COST_FIGURES_CACHE_SECONDS = env_int("COST_FIGURES_CACHE_SECONDS", 3600, minimum=0)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Shared by every web server when Redis is configured; one per process otherwise.
    "costs": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "portal"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "costs"}
    ),
}
CELERY_BEAT_SCHEDULE["onboarding-resume-stalled"] = {
    "task": "onboarding.resume_stalled",
    "schedule": PROVISION_SWEEP_SECONDS,
}
CELERY_BEAT_SCHEDULE["changesets-resume-stalled"] = {
    "task": "changesets.resume_stalled",
    "schedule": PROVISION_SWEEP_SECONDS,
}
# How long an approved change set may wait (for running apps to stop, for AWS to finish) before it fails.
CHANGESET_WAIT_SECONDS = env_int("CHANGESET_WAIT_SECONDS", 24 * 3600, minimum=1)
CELERY_BEAT_SCHEDULE["governance-posture-check"] = {
    "task": "governance.scheduled_posture_check",
    "schedule": 3600 * env_int("POSTURE_CHECK_HOURS", 6, minimum=1),
}
CELERY_BEAT_SCHEDULE["governance-expire-acceptances"] = {"task": "governance.expire_acceptances", "schedule": 3600}
CELERY_BEAT_SCHEDULE["iam-review"] = {
    "task": "iamaccess.scheduled_review",
    "schedule": 3600 * env_int("IAM_REVIEW_HOURS", 24, minimum=1),
}
CELERY_BEAT_SCHEDULE["governance-weekly-digest"] = {"task": "governance.weekly_digest", "schedule": 7 * 24 * 3600}
CELERY_BEAT_SCHEDULE["onboarding-space-expiry"] = {
    "task": "onboarding.check_space_expiry",
    "schedule": 3600 * 6,
}
# Cost allocation tag backfills: start the approved ones AWS throttled, follow the started ones until AWS ends them.
CELERY_BEAT_SCHEDULE["backfill-follow-cost-tag-backfills"] = {
    "task": "backfill.follow_cost_tag_backfills",
    "schedule": 60 * 15,
}
