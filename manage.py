#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in ("demo", "sandbox"):
        # The demo runs on the embedded default with a development secret; it never serves real users.
        os.environ.setdefault("DEBUG", "1")
    else:
        # Beside a running demo, every other command uses the demo's database, broker and sandbox.
        from portal.demo_env import default_var_dir, env_path, load_demo_env

        var_dir = default_var_dir(os.environ, Path(__file__).resolve().parent)
        taken = load_demo_env(os.environ, var_dir)
        if taken:
            sys.stderr.write(f"Using the running demo's {', '.join(taken)} from {env_path(var_dir)}\n")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
