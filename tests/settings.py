"""Settings for the test suite: the project's settings with test-only speed-ups.

The database and broker still come from DATABASE_URL / REDIS_URL, so the same suite runs on the embedded default
and on PostgreSQL + Redis in CI.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# Playwright's sync API runs an event loop in the test thread; the ORM calls made beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from portal.env import env_choice, env_int, env_optional  # noqa: E402
from portal.ratebudget import BudgetSize  # noqa: E402
from portal.settings import *  # noqa: E402,F403
from portal.settings import AWS_RATE_BUDGETS, DATABASES, STORAGES, VAR_DIR  # noqa: E402

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AWS_MODE = "sandbox"
# The in-process sandbox intercepts the real endpoints. A worker process started beside the tests (their
# start_worker, the inventory benchmark) is told the sandbox server's address instead.
AWS_ENDPOINT_URL = env_optional("AWS_ENDPOINT_URL")
AWS_SANDBOX_IN_PROCESS = True  # ... which is why sandbox mode without an endpoint is allowed here
# The suite's retry settings and rate budget unless the environment names others: the inventory benchmark gives its
# worker processes production's (adaptive retries, 8 attempts, the budget's real sizes in Redis).
AWS_MAX_ATTEMPTS = env_int("AWS_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
# Adaptive mode's client-side rate limiter would slow fault tests down.
AWS_RETRY_MODE = env_choice("AWS_RETRY_MODE", "standard", ("standard", "adaptive"))
AWS_STEP_RETRY_SECONDS = 0.01
# Every gateway call still goes through the rate budget, in this process and sized so that it never waits; the budget's
# own tests size it and pick its store themselves.
AWS_RATE_BUDGET_STORE = env_choice("AWS_RATE_BUDGET_STORE", "local", ("auto", "redis", "local"))
if not env_optional("AWS_RATE_BUDGETS"):
    AWS_RATE_BUDGETS = {name: BudgetSize(100_000, 100_000) for name in AWS_RATE_BUDGETS}

if CELERY_BROKER_URL == "filesystem://":  # noqa: F405
    # Its own queue folder, so a demo running on the same checkout never takes the tests' tasks.
    _queue = VAR_DIR / "test-celery-queue"
    (_queue / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:", so a real worker process can open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}

# A worker process started by a test opens the test database the test process created.
if os.environ.get("PORTAL_TEST_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["PORTAL_TEST_DATABASE_NAME"]
