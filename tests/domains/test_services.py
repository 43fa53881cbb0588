"""The account services check their own rule: platform admins (or the system) manage AWS accounts."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from domains import services
from domains.models import AwsAccount
from portal.models import AuditEvent
from tests.factories import AwsAccountFactory, DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def test_a_domain_approver_may_not_add_change_or_check_an_account() -> None:
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", DomainFactory())
    account = AwsAccountFactory(name="payments")
    with pytest.raises(ValidationError, match="Only a platform admin"):
        services.do_add_account(actor=approver, account_id="999999999999", name="x", regions=["us-east-1"])
    with pytest.raises(ValidationError, match="Only a platform admin"):
        services.do_update_account(account, actor=approver, name="renamed")
    with pytest.raises(ValidationError, match="Only a platform admin"):
        services.do_verify_account(account, actor=approver)
    assert AwsAccount.objects.get(pk=account.pk).name == "payments"
    assert not AwsAccount.objects.filter(account_id="999999999999").exists()
    assert not AuditEvent.objects.filter(action__startswith="account.").exists()
