"""Every choice the sandbox makes where AWS's documentation is silent is in one list, with the page behind it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from awssandbox import assumptions, iampolicy
from awssandbox.assumptions import ASSUMED, Assumption

PACKAGE = Path(assumptions.__file__).resolve().parent
MARKER = re.compile(r"\bASSUMED\b|\bassumed\b")


def test_every_entry_cites_a_page_of_the_aws_documentation() -> None:
    assert ASSUMED
    for entry in ASSUMED:
        assert re.fullmatch(r"https://docs\.aws\.amazon\.com/[\w./-]+\.html", entry.url), entry
        assert entry.behaviour.strip() and entry.behaviour[-1] in ".)", entry


def test_every_entry_names_code_that_exists() -> None:
    for entry in ASSUMED:
        entry.target()  # raises when the constant or module is gone


def test_an_entry_whose_code_is_gone_is_caught() -> None:
    with pytest.raises(AttributeError):
        Assumption("awssandbox.clock:NO_SUCH_FIGURE", "x.", "https://docs.aws.amazon.com/x.html").target()


def test_every_module_that_marks_a_choice_as_assumed_has_entries() -> None:
    marked = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "assumptions.py" or path.name == "__init__.py":
            continue
        if MARKER.search(path.read_text()):
            marked.add(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    listed = {entry.where.partition(":")[0] for entry in ASSUMED}
    assert marked and marked <= listed, marked - listed


def test_each_choice_of_the_iam_evaluator_is_listed() -> None:
    listed = [entry for entry in ASSUMED if entry.where == "awssandbox.iampolicy:ASSUMED"]
    assert len(listed) == len(iampolicy.ASSUMED)


def test_the_list_reads_as_markdown_bullets() -> None:
    lines = assumptions.as_markdown().splitlines()
    assert len(lines) == len(ASSUMED) and all(line.startswith("- ") and " — https://" in line for line in lines)
