"""A terminal progress bar for commands that follow a task run."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from django.db import connections

from portal.models import TaskRun


def follow(run_id: int, work: Callable[[], None], out: TextIO, *, interval: float = 0.25) -> TaskRun:
    """Run ``work`` in a thread while drawing the run's progress on ``out``; return the finished run."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # shown to the person below, after the bar
            failure.append(exc)
        finally:
            connections.close_all()  # this thread's own database connections

    thread = threading.Thread(target=target, name=f"run-{run_id}", daemon=True)
    thread.start()
    tty = getattr(out, "isatty", lambda: False)()
    last_line = ""
    while True:
        thread.join(interval)
        run = TaskRun.objects.get(pk=run_id)
        line = bar(run)
        if line != last_line:
            out.write(("\r" + line.ljust(len(last_line))) if tty else line + "\n")
            out.flush()
            last_line = line
        if not thread.is_alive():
            break
    if tty:
        out.write("\n")
    if failure:
        raise failure[0]
    return TaskRun.objects.get(pk=run_id)


def bar(run: TaskRun, width: int | None = None) -> str:
    width = width or max(10, min(40, shutil.get_terminal_size((80, 20)).columns - 60))
    filled = round(width * run.percent / 100)
    elapsed = f"{run.duration:5.1f}s" if run.duration is not None else "  -  "
    text = f"[{'#' * filled}{'-' * (width - filled)}] {run.steps_done}/{run.steps_total} steps {elapsed} {run.message}"
    return text[: shutil.get_terminal_size((200, 20)).columns - 1]


def wait_for(run_id: int, timeout: float) -> TaskRun:
    deadline = time.monotonic() + timeout
    while True:
        run = TaskRun.objects.get(pk=run_id)
        if not run.is_active or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def run_command(command: Any, run: TaskRun, created: bool, work: Callable[[], None], *, queued: bool) -> TaskRun:
    """What ``sync_aws`` and ``ingest_costs`` share: follow the run (doing ``work`` here unless it was queued or
    joined), draw the bar, list the errors, end with the outcome; a failed run makes the command fail."""
    from django.core.management.base import CommandError

    from portal.runs import summary_text

    if created:
        command.stdout.write(f"Run #{run.pk}: {run.scope_label}")
    else:
        command.stdout.write(f"A run for {run.scope_label} is already going (#{run.pk}); following it.")

    def follow_or_work() -> None:
        if created and not queued:
            work()
        else:
            wait_for(run.pk, timeout=6 * 3600)

    finished = follow(run.pk, follow_or_work, command.stdout)
    for note in finished.notes:
        command.stdout.write(command.style.WARNING(f"  note: {note}"))
    for error in finished.errors:
        command.stderr.write(f"  {error['scope']}: {error['message']}")
    styles = {"succeeded": command.style.SUCCESS, "partial": command.style.WARNING}
    style = styles.get(finished.status, command.style.ERROR)
    command.stdout.write(style(f"{finished.get_status_display()}: {summary_text(finished)}"))
    if finished.status == TaskRun.Status.FAILED:
        raise CommandError("The run failed; see the errors above.")
    return finished
