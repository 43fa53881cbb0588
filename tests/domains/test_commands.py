"""``manage.py sync_aws``: the scheduler's work from a terminal, with progress and clear errors."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from domains.models import Domain
from portal.models import TaskRun
from tests.inventory import build_org, make_account

# The command works in a thread while it draws progress: the data must be committed for that thread to see it.
pytestmark = pytest.mark.django_db(transaction=True)


def test_sync_aws_syncs_with_a_progress_bar(aws_sandbox: None) -> None:
    build_org(domains=2, profiles=2, spaces=1)
    make_account()
    out = StringIO()
    call_command("sync_aws", stdout=out)
    text = out.getvalue()
    assert "Run #" in text and "steps" in text and "Succeeded:" in text
    assert "[" + "#" * 10 in text  # the bar filled up
    assert Domain.objects.count() == 2
    assert TaskRun.objects.get().trigger == TaskRun.Trigger.COMMAND


def test_sync_aws_narrows_to_a_domain(aws_sandbox: None) -> None:
    org = build_org(domains=2, profiles=1, spaces=0)
    make_account()
    call_command("sync_aws", stdout=StringIO())
    out = StringIO()
    call_command("sync_aws", "--domain", org.domains["team1"], stdout=out)
    run = TaskRun.objects.order_by("-pk").first()
    assert set(run.scope) == {"domain_arn"} and run.steps_total == 1
    assert "team1" in out.getvalue()


def test_sync_aws_refuses_an_unknown_scope() -> None:
    with pytest.raises(CommandError, match="No AWS account 999999999999 is configured"):
        call_command("sync_aws", "--account", "999999999999", stdout=StringIO())
    with pytest.raises(CommandError, match="Give the account with the region"):
        call_command("sync_aws", "--region", "us-east-1", stdout=StringIO())


def test_sync_aws_fails_loudly_when_nothing_can_be_synced(aws_sandbox: None) -> None:
    err = StringIO()
    with pytest.raises(CommandError, match="The run failed"):
        call_command("sync_aws", stdout=StringIO(), stderr=err)
    assert "add one on the Accounts page" in err.getvalue()
