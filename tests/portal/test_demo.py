"""The demo command prepares everything (sandbox server, migrations, logins, accounts, first sync, roles)."""

from __future__ import annotations

import socket
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

import awssandbox
from awssandbox import organisation
from awssandbox.ce import cost_state
from costs.models import CostRecord
from domains.models import AwsAccount, Domain
from governance.models import Finding
from portal.aws import gateway
from portal.demo import DEMO_PASSWORD, DEMO_USERS
from portal.models import OutgoingMail, RoleAssignment
from portal.sandboxing import demo_inputs
from profiles.models import App, Space, UserProfile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_brings_in_the_whole_demo_organisation(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # The command points this process at its sandbox server; going through the fixture restores that afterwards.
    settings.AWS_MODE, settings.AWS_ENDPOINT_URL = settings.AWS_MODE, settings.AWS_ENDPOINT_URL
    port = free_port()
    call_command("demo", "--no-processes", "--port", str(port), "--sandbox-port", str(free_port()))
    out = capsys.readouterr().out
    assert "Demo data ready." in out and DEMO_PASSWORD in out
    assert AwsAccount.objects.count() == 2
    assert Domain.objects.count() == 5
    assert UserProfile.objects.count() == 39 and Space.objects.count() == 15 and App.objects.count() == 27
    assert "Cost ingestion #" in out and "Budgets set for 3 domains" in out
    # "Log in with SSO": each SSO domain's Identity Center team group gives its data scientist role.
    from portal.models import GroupRoleMapping

    fraud = Domain.objects.get(name="payments-fraud")
    assert GroupRoleMapping.objects.get(group="sagemaker-payments-fraud").domain_arns == [fraud.arn]
    assert GroupRoleMapping.objects.count() == 2
    # The IAM review runs in the demo, so the hidden-but-allowed findings show from the start.
    assert "IAM review #" in out and ": Succeeded" in out.split("IAM review #", 1)[1].splitlines()[0]
    assert Finding.objects.filter(check_id="SE-06", resource_name="sofia-rossi", status="open").exists()
    # The portal's spend equals the demo bill's line items to the cent (the demo organisation is deterministic,
    # so seeding it again here gives the very line items the demo's sandbox server held).
    first, last = CostRecord.objects.order_by("day").first().day, CostRecord.objects.order_by("-day").first().day
    with awssandbox.running():
        organisation.seed(demo_inputs(), date.today())
        bill = sum(
            (i.amount for i in cost_state(organisation.PAYER_ACCOUNT_ID).items if first <= i.day <= last), Decimal(0)
        )
    ours = sum(CostRecord.objects.filter(grain="profile").values_list("amount", flat=True), Decimal(0))
    assert ours.quantize(Decimal("0.01")) == bill.quantize(Decimal("0.01"))
    maria = UserProfile.objects.get(name="maria-garcia")
    assert maria.owner is not None and maria.owner.username == "scientist"
    assert set(RoleAssignment.objects.values_list("user__username", flat=True)) == set(DEMO_USERS) - {"admin"}
    from django.contrib.auth import authenticate

    assert all(authenticate(username=name, password=DEMO_PASSWORD) for name in DEMO_USERS)
    # Onboarding: personas, space policies, a profile request waiting for the approver, a space approved by quota.
    assert "waits for the approver" in out and "(churn-features) was approved." in out
    from onboarding.models import PersonaTemplate, ProfileRequest

    assert PersonaTemplate.objects.count() == 5
    assert ProfileRequest.objects.get().profile_name == "maria-garcia"
    # Governance: a posture check, one accepted risk, and one change set applied to the demo's sandbox server (whose
    # lifecycles take a few seconds, as in the demo), with 90 days of posture history.
    from changesets.models import ChangeSet
    from governance.models import PostureSnapshot

    assert "Posture check #" in out and "Risk accepted by approver: SE-01 on research-lab" in out
    applied = ChangeSet.objects.get()
    assert applied.status == "applied" and f"{applied.ref} ({applied.title}): applied." in out
    assert Finding.objects.filter(status="accepted").count() == 1
    assert PostureSnapshot.objects.filter(domain__name="research-lab").count() == 90
    # The emails recorded while the demo starts link to the web server of this demo, on its --port.
    bodies = list(OutgoingMail.objects.values_list("body", flat=True))
    assert bodies and any(f"http://127.0.0.1:{port}/" in body for body in bodies)
    assert not any("127.0.0.1:8000" in body for body in bodies)
    # The demo's leaver (her Identity Center user deleted, her risk-analytics profile kept) waits in the approver's
    # Requests page, proposed for offboarding.
    from django.contrib.auth import get_user_model

    from onboarding.services import proposed_leavers

    approver = get_user_model().objects.get(username="approver")
    assert "Olivia Brown" in [person.display_name for person in proposed_leavers(approver)]
    gateway().clear()
