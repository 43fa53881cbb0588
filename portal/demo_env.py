"""The running demo's environment, shared with other ``manage.py`` commands through a file under ``var/``.

``manage.py demo`` writes ``var/demo.env`` once its sandbox is up (database, broker, sandbox endpoint, base URL) and
removes it when it stops; ``manage.py`` reads it for any other command, for each variable the environment does not
set, so ``python manage.py sync_aws`` beside a running demo talks to the demo's sandbox and database. A file left
by a demo that was killed names a process that no longer runs and is ignored. No Django import here: manage.py reads
it before Django is set up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

FILE_NAME = "demo.env"
KEYS = ("DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "AWS_MODE", "AWS_ENDPOINT_URL", "PORTAL_BASE_URL")


def env_path(var_dir: str | Path) -> Path:
    return Path(var_dir) / FILE_NAME


def default_var_dir(environ: Mapping[str, str], base_dir: Path) -> Path:
    return Path(environ.get("PORTAL_VAR_DIR") or base_dir / "var")


def write_demo_env(var_dir: str | Path, values: Mapping[str, str], *, pid: int) -> Path:
    """Write the demo's variables (only the shared ones), readable by this user only (the URLs may hold passwords)."""
    path = env_path(var_dir)
    lines = ["# Written by `manage.py demo` while it runs; other manage.py commands read it. Removed at exit."]
    lines.append(f"DEMO_PID={pid}")
    lines += [f"{key}={values[key]}" for key in KEYS if values.get(key)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def read_demo_env(var_dir: str | Path) -> dict[str, str]:
    """The file's variables when the demo that wrote it still runs; else nothing."""
    try:
        text = env_path(var_dir).read_text()
    except OSError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[key.strip()] = value.strip()
    if not _running(values.pop("DEMO_PID", "")):
        return {}
    return {key: value for key, value in values.items() if key in KEYS}


def load_demo_env(environ: MutableMapping[str, str], var_dir: str | Path) -> list[str]:
    """Set, in ``environ``, each of the running demo's variables that it does not set already; returns their names.

    Nothing is taken when ``AWS_MODE`` asks for something other than the demo's sandbox."""
    if environ.get("AWS_MODE", "sandbox").strip().lower() != "sandbox":
        return []
    taken = []
    for key, value in read_demo_env(var_dir).items():
        if key not in environ and f"{key}_FILE" not in environ:
            environ[key] = value
            taken.append(key)
    return taken


def remove_demo_env(var_dir: str | Path, *, pid: int) -> None:
    """Remove the file if this process wrote it (a second demo must not remove the first one's)."""
    path = env_path(var_dir)
    try:
        if f"DEMO_PID={pid}\n" in path.read_text():
            path.unlink()
    except OSError:
        pass


def _running(pid_text: str) -> bool:
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
