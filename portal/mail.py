"""The one way the portal sends email: :func:`send_mail_later`.

The email is recorded as an :class:`~portal.models.OutgoingMail` row in the caller's transaction, so it exists
exactly when the change it is about does; a Celery task sends it once that transaction commits. Each email is its
own task: a mail server error for one never stops the others, and the task retries connection and SMTP errors with
backoff before it records the email as failed. Admins see every email and its state (Django admin, ``/api/mail/``).
"""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.models import OutgoingMail

logger = logging.getLogger(__name__)

# Worth another try later: the server was unreachable, timed out, hung up, or answered with an SMTP error.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
)
# SMTP errors that the same message will meet again: no retry.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPNotSupportedError,
    smtplib.SMTPAuthenticationError,
)


def send_mail_later(subject: str, body: str, recipients: Iterable[str]) -> OutgoingMail | None:
    """Record one email now and send it after the current transaction commits; None when nobody is to receive it."""
    to = sorted({address.strip() for address in recipients if address and address.strip()})
    if not to:
        return None
    mail = OutgoingMail.objects.create(to=to, subject=subject[:500], body=body)
    # robust: a broker that cannot take the message must not stop the other on-commit work; the row stays queued
    # and the stalled-mail sweep hands it to a worker later.
    transaction.on_commit(lambda: enqueue(mail.pk), robust=True)
    return mail


SEND_TASK = "portal.send_outgoing_mail"


def enqueue(mail_id: int) -> None:
    # The task is looked up in the Celery app by name: portal.tasks imports this module, not the other way round.
    from celery import current_app

    current_app.tasks[SEND_TASK].delay(mail_id)


def deliver(mail_id: int, *, final_attempt: bool) -> OutgoingMail | None:
    """Send one recorded email and record the outcome; re-raises the error so the task can retry it.

    Safe to run twice: only a queued or retrying email is claimed (a conditional update), so a duplicate task exits.
    """
    now = timezone.now()
    claimed = OutgoingMail.objects.filter(
        pk=mail_id, state__in=[OutgoingMail.State.QUEUED, OutgoingMail.State.RETRYING]
    ).update(state=OutgoingMail.State.SENDING, last_attempt_at=now)
    if not claimed:
        return None
    mail = OutgoingMail.objects.get(pk=mail_id)
    try:
        EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, mail.to).send(fail_silently=False)
    except Exception as exc:
        gives_up = final_attempt or isinstance(exc, PERMANENT_ERRORS) or not isinstance(exc, RETRYABLE_ERRORS)
        mail.state = OutgoingMail.State.FAILED if gives_up else OutgoingMail.State.RETRYING
        mail.attempts += 1
        mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        mail.save(update_fields=["state", "attempts", "last_error"])
        logger.warning("Email %s %r: attempt %s failed (%s)", mail.pk, mail.subject, mail.attempts, mail.last_error)
        raise
    mail.state, mail.sent_at = OutgoingMail.State.SENT, timezone.now()
    mail.attempts += 1
    mail.save(update_fields=["state", "sent_at", "attempts"])
    return mail


def send_again(mails: Iterable[OutgoingMail]) -> int:
    """Give failed emails a fresh round of attempts (an admin's "send again", once the mail server is fixed)."""
    ids = [mail.pk for mail in mails if mail.state == OutgoingMail.State.FAILED]
    OutgoingMail.objects.filter(pk__in=ids, state=OutgoingMail.State.FAILED).update(state=OutgoingMail.State.RETRYING)
    for mail_id in ids:
        transaction.on_commit(lambda mail_id=mail_id: enqueue(mail_id), robust=True)
    return len(ids)


def resend_stalled(older_than: timedelta | None = None) -> int:
    """Hand emails to the workers again that no task is looking after: still queued long after they were recorded
    (the broker was down at commit) or left sending by a worker that died. Returns how many."""
    cutoff = timezone.now() - (older_than or timedelta(minutes=settings.MAIL_STALE_MINUTES))
    stalled = OutgoingMail.objects.filter(
        Q(state=OutgoingMail.State.QUEUED, created_at__lt=cutoff)
        | Q(state=OutgoingMail.State.SENDING, last_attempt_at__lt=cutoff)
    )
    ids = list(stalled.values_list("pk", flat=True)[:500])
    OutgoingMail.objects.filter(pk__in=ids, state=OutgoingMail.State.SENDING).update(state=OutgoingMail.State.RETRYING)
    for mail_id in ids:
        enqueue(mail_id)
    return len(ids)
