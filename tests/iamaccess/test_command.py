"""``manage.py review_iam``: the scheduler's review from a terminal, with a progress bar."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portal.models import TaskRun

# The command works in a thread while it draws progress: the data must be committed for that thread to see it.
pytestmark = pytest.mark.django_db(transaction=True)


def test_review_iam_reviews_with_a_progress_bar(demo: None) -> None:
    out = StringIO()
    call_command("review_iam", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "steps" in text and "Succeeded" in text
    assert TaskRun.objects.filter(kind="iam_review", trigger=TaskRun.Trigger.COMMAND).count() == 1


def test_review_iam_names_an_unknown_domain(aws_sandbox: None) -> None:
    with pytest.raises(CommandError, match="No domain d-nothere"):
        call_command("review_iam", "--domain", "d-nothere", stdout=StringIO())
