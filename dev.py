#!/usr/bin/env python3
"""Set-up in one command: ``python3 dev.py demo`` starts the demo, ``python3 dev.py test`` runs the whole suite.

Each creates (or refreshes) the virtual environment in ``.venv`` from ``pyproject.toml`` first, so a fresh machine
needs only Python 3.11 and pip. Extra arguments go to ``manage.py demo`` or to pytest.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PORTAL_VENV", ROOT / ".venv"))
STAMP = VENV / ".installed-from"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Python 3.11 is required, this is {sys.version.split()[0]}. Run: python3.11 dev.py ...")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    python = venv_python()
    if not python.exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing the project and its dependencies (first run or pyproject.toml changed) ...", flush=True)
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
        STAMP.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__.strip())
        print("\nUsage: python3 dev.py demo [manage.py demo options] | python3 dev.py test [pytest options]")
        return 2
    python = ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "demo":
        args = [str(python), "manage.py", "demo", *rest]
    else:
        args = [str(python), "-m", "pytest", *rest]
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's `&` starts us with SIGINT ignored
    process = subprocess.Popen(args)
    # Ctrl-C in a terminal reaches the child too; a signal sent to this process alone is passed on.
    signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signal.SIGTERM))
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
