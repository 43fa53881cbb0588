"""One mail path: every email is a row recorded with its change and sent by its own retried task."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.core import mail as django_mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from portal.mail import resend_stalled, send_mail_later
from portal.models import OutgoingMail
from portal.tasks import send_outgoing_mail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class FlakyBackend(EmailBackend):
    """The locmem backend, except that mail to some addresses meets an SMTP error: ``failures[address]`` times (a
    negative count: every time), with ``error`` as the exception class."""

    failures: ClassVar[dict[str, int]] = {}
    error: ClassVar[type[Exception]] = smtplib.SMTPServerDisconnected

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            for address in message.to:
                left = self.failures.get(address, 0)
                if left:
                    self.failures[address] = left - 1
                    raise self.error("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_smtp(settings: Any) -> Iterator[type[FlakyBackend]]:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures = {}
    FlakyBackend.error = smtplib.SMTPServerDisconnected
    yield FlakyBackend
    FlakyBackend.failures = {}


@pytest.fixture
def eager_mail(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Mail tasks run in this process once enqueued (retries at once, without their backoff); three retries."""
    from portal.celery import app

    monkeypatch.setattr(send_outgoing_mail, "max_retries", 3)
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_an_email_is_recorded_in_the_callers_transaction_and_sent_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            recorded = send_mail_later("Hello", "Body", ["b@example.com", "a@example.com", "a@example.com", ""])
    assert recorded is not None
    assert (recorded.to, recorded.state, recorded.attempts) == (["a@example.com", "b@example.com"], "queued", 0)
    assert len(callbacks) == 1 and django_mail.outbox == []  # nothing is sent before the commit
    send_outgoing_mail(recorded.pk)
    recorded.refresh_from_db()
    assert recorded.state == "sent" and recorded.sent_at is not None and recorded.attempts == 1
    assert [m.to for m in django_mail.outbox] == [["a@example.com", "b@example.com"]]
    send_outgoing_mail(recorded.pk)  # delivered twice (a redelivered task): sent once
    assert len(django_mail.outbox) == 1


def test_a_rolled_back_change_leaves_no_email(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            send_mail_later("Hello", "Body", ["a@example.com"])
            raise RuntimeError("the change failed")
    assert not OutgoingMail.objects.exists() and callbacks == []
    assert send_mail_later("Nobody", "Body", []) is None


def test_an_smtp_error_for_one_email_does_not_stop_the_others(
    flaky_smtp: type[FlakyBackend], eager_mail: None, django_capture_on_commit_callbacks: Any
) -> None:
    flaky_smtp.failures = {"down@example.com": -1}
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            first = send_mail_later("First", "1", ["one@example.com"])
            broken = send_mail_later("Broken", "2", ["down@example.com"])
            last = send_mail_later("Last", "3", ["three@example.com"])
    assert sorted(m.subject for m in django_mail.outbox) == ["First", "Last"]
    states = dict(OutgoingMail.objects.values_list("pk", "state"))
    assert states == {first.pk: "sent", broken.pk: "failed", last.pk: "sent"}
    broken.refresh_from_db()
    assert broken.attempts == 4  # the first try and three retries
    assert broken.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert broken.sent_at is None


def test_a_retry_sends_an_email_the_server_refused_once(
    flaky_smtp: type[FlakyBackend], eager_mail: None, django_capture_on_commit_callbacks: Any
) -> None:
    flaky_smtp.failures = {"a@example.com": 1}
    with django_capture_on_commit_callbacks(execute=True):
        recorded = send_mail_later("Retried", "Body", ["a@example.com"])
    recorded.refresh_from_db()
    assert (recorded.state, recorded.attempts) == ("sent", 2)
    assert "SMTPServerDisconnected" in recorded.last_error  # the earlier attempt's error is kept
    assert [m.subject for m in django_mail.outbox] == ["Retried"]


def test_a_refused_recipient_fails_at_once_without_retries(
    flaky_smtp: type[FlakyBackend], eager_mail: None, django_capture_on_commit_callbacks: Any
) -> None:
    class Refused(smtplib.SMTPRecipientsRefused):
        def __init__(self, message: str) -> None:
            super().__init__({"x@example.com": (550, b"no such user")})

    flaky_smtp.failures, flaky_smtp.error = {"x@example.com": -1}, Refused
    with django_capture_on_commit_callbacks(execute=True):
        recorded = send_mail_later("Refused", "Body", ["x@example.com"])
    recorded.refresh_from_db()
    assert (recorded.state, recorded.attempts) == ("failed", 1)
    assert recorded.last_error.startswith("Refused")


def test_the_sweep_hands_stalled_emails_to_a_worker_again(django_capture_on_commit_callbacks: Any) -> None:
    stalled = send_mail_later("Stalled", "Body", ["a@example.com"])
    fresh = send_mail_later("Fresh", "Body", ["b@example.com"])
    OutgoingMail.objects.filter(pk=stalled.pk).update(created_at=timezone.now() - timedelta(hours=1))
    sent: list[int] = []
    from portal import mail

    original = mail.enqueue
    mail.enqueue = sent.append  # type: ignore[assignment]
    try:
        assert resend_stalled(timedelta(minutes=15)) == 1
    finally:
        mail.enqueue = original  # type: ignore[assignment]
    assert sent == [stalled.pk] and fresh.pk not in sent


def test_admins_list_the_failed_emails_and_others_see_none() -> None:
    OutgoingMail.objects.create(to=["a@example.com"], subject="Went out", body="", state="sent")
    failed = OutgoingMail.objects.create(
        to=["b@example.com"], subject="Lost", body="", state="failed", last_error="SMTPServerDisconnected: x"
    )
    admin_client = APIClient()
    admin_client.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    answer = admin_client.get("/api/mail/", {"state": "failed"}).json()
    assert [row["subject"] for row in answer["results"]] == ["Lost"]
    assert answer["results"][0]["last_error"] == "SMTPServerDisconnected: x"
    outsider = APIClient()
    outsider.force_authenticate(UserFactory())
    assert outsider.get("/api/mail/").json()["results"] == []
    assert outsider.get(f"/api/mail/{failed.pk}/").status_code == 404


def test_the_django_admin_shows_outgoing_mail_read_only(client: Any) -> None:
    recorded = OutgoingMail.objects.create(to=["a@example.com"], subject="Lost", body="", state="failed")
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    listing = client.get("/admin/portal/outgoingmail/?state__exact=failed")
    assert listing.status_code == 200 and "Lost" in listing.content.decode()
    change = client.post(f"/admin/portal/outgoingmail/{recorded.pk}/change/", {"subject": "Changed"})
    assert change.status_code in (302, 403)
    recorded.refresh_from_db()
    assert recorded.subject == "Lost"


def test_an_admin_sends_failed_emails_again_and_it_is_audited(
    client: Any, flaky_smtp: type[FlakyBackend], eager_mail: None, django_capture_on_commit_callbacks: Any
) -> None:
    from portal.models import AuditEvent

    failed = OutgoingMail.objects.create(to=["a@example.com"], subject="Lost", body="", state="failed", attempts=9)
    sent = OutgoingMail.objects.create(to=["b@example.com"], subject="Fine", body="", state="sent")
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/portal/outgoingmail/", {"action": "send_again", "_selected_action": [failed.pk, sent.pk]}
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == ("sent", 10)
    assert [m.subject for m in django_mail.outbox] == ["Lost"]
    event = AuditEvent.objects.get(action="admin.send_again", object_id=str(failed.pk))
    assert event.actor_label == "root" and event.before["state"] == "failed"


def test_the_mail_list_takes_the_same_queries_for_few_and_many_emails(django_assert_num_queries: Any) -> None:
    admin_client = APIClient()
    admin_client.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    OutgoingMail.objects.bulk_create(OutgoingMail(to=["a@example.com"], subject=f"S{n}", body="") for n in range(3))
    admin_client.get("/api/mail/")  # warm-up: content types, grants
    with django_assert_num_queries(2) as few:  # the page and its count
        assert admin_client.get("/api/mail/").json()["count"] == 3
    OutgoingMail.objects.bulk_create(OutgoingMail(to=["a@example.com"], subject=f"M{n}", body="") for n in range(40))
    with django_assert_num_queries(len(few.captured_queries)):
        assert admin_client.get("/api/mail/").json()["count"] == 43


def test_every_process_knows_the_tasks_that_services_hand_work_to_by_name() -> None:
    """A web process imports no tasks module by itself (Celery's autodiscovery runs in workers): the mail task was
    not registered there, so every email waited for the stalled-mail sweep."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup(); from celery import current_app; from portal.mail import SEND_TASK; "
        "from onboarding.work import WORK_TASKS; print(SEND_TASK in current_app.tasks, len(WORK_TASKS))"
    )
    env = {**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    root = Path(__file__).resolve().parents[2]
    answer = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    assert answer.stdout.split() == ["True", "7"]
