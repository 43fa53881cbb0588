"""The Django admin shows the audit log and the outgoing mail read-only: no add, change or delete, as everywhere
else."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from portal import mail
from portal.models import AuditEvent, OutgoingMail


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only the portal's services write: the admin lists and shows them, nothing more."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_repr", "domain_arn"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor_label", "action"]


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ReadOnlyAdmin):
    """Every email the portal sent or tried to send, read-only; filter by state to find the failed ones."""

    list_display = ["created_at", "subject", "recipients", "state", "attempts", "sent_at"]
    list_filter = ["state"]
    search_fields = ["subject", "to", "last_error"]
    actions = ["send_again"]
    readonly_fields = ["created_at", "to", "subject", "body", "state", "attempts", "last_error", "last_attempt_at"]
    readonly_fields += ["sent_at"]

    @admin.action(description="Send the selected failed emails again")
    def send_again(self, request: HttpRequest, queryset: Any) -> None:
        count = mail.send_again(queryset)
        messages.info(request, f"{count} failed email(s) handed to a worker again; the others were left as they are.")

    @admin.display(description="to")
    def recipients(self, obj: OutgoingMail) -> str:
        return ", ".join(obj.to)
