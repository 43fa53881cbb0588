"""ID-03 and the directory in ID-01/ID-02, over the demo organisation (Identity Center seeded with a leaver)."""

from __future__ import annotations

from datetime import date

import pytest

from awssandbox import organisation
from governance import engine
from governance.models import Finding
from portal.demo import ensure_demo_users
from portal.sandboxing import demo_inputs

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(aws_sandbox: None) -> None:
    from domains import demo as domains_demo

    organisation.seed(demo_inputs(), date.today(), with_costs=False)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)
    engine.evaluate()


def test_id03_flags_the_leavers_sso_profile_and_not_the_others(demo: None) -> None:
    flagged = set(Finding.objects.filter(check_id="ID-03", status="open").values_list("resource_name", flat=True))
    assert flagged == {"olivia-brown"}
    finding = Finding.objects.get(check_id="ID-03", resource_name="olivia-brown")
    assert "not a current Identity Center user" in finding.details


def test_id02_counts_a_persons_profiles_through_the_directory(demo: None) -> None:
    # jsmith carries john.smith's owner tag: one person, two profiles in research-lab.
    flagged = set(Finding.objects.filter(check_id="ID-02", status="open").values_list("resource_name", flat=True))
    assert {"john-smith", "jsmith"} <= flagged
