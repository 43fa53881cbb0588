"""The demo command prepares everything (sandbox server, migrations, logins, accounts, first sync, roles)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.core.management import call_command

from costs.models import CostRecord
from domains.models import AwsAccount, Domain
from portal.aws import gateway
from portal.demo import DEMO_PASSWORD, DEMO_USERS
from portal.models import RoleAssignment
from profiles.models import App, Space, UserProfile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_brings_in_the_whole_demo_organisation(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # The command points this process at its sandbox server; going through the fixture restores that afterwards.
    settings.AWS_MODE, settings.AWS_ENDPOINT_URL = settings.AWS_MODE, settings.AWS_ENDPOINT_URL
    try:
        call_command("demo", "--no-processes", "--port", str(free_port()), "--sandbox-port", str(free_port()))
    finally:
        gateway().clear()
    out = capsys.readouterr().out
    assert "Demo data ready." in out and DEMO_PASSWORD in out
    assert AwsAccount.objects.count() == 2
    assert Domain.objects.count() == 5
    assert UserProfile.objects.count() == 38 and Space.objects.count() == 15 and App.objects.count() == 27
    assert CostRecord.objects.filter(domain__isnull=False).exists()
    assert "Cost ingestion #" in out
    maria = UserProfile.objects.get(name="maria-garcia")
    assert maria.owner is not None and maria.owner.username == "scientist"
    assert set(RoleAssignment.objects.values_list("user__username", flat=True)) == set(DEMO_USERS) - {"admin"}
    from django.contrib.auth import authenticate

    assert all(authenticate(username=name, password=DEMO_PASSWORD) for name in DEMO_USERS)
