"""Outgoing email for platform admins: read-only, so a failed notification is seen (``/api/mail/?state=failed``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from portal.api import ScopedReadOnlyViewSet
from portal.filtering import OutgoingMailFilterSet
from portal.models import OutgoingMail


class OutgoingMailSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutgoingMail
        fields = ["id", "created_at", "to", "subject", "body", "state", "attempts", "last_error", "sent_at"]
        read_only_fields = fields


class OutgoingMailViewSet(ScopedReadOnlyViewSet):
    """Every email the portal recorded, newest first (platform admins; anyone else sees an empty list)."""

    serializer_class = OutgoingMailSerializer
    filterset_class = OutgoingMailFilterSet

    def base_queryset(self) -> Any:
        return OutgoingMail.objects.all()
