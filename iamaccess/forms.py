from __future__ import annotations

from django import forms


class ReviewStartForm(forms.Form):
    """Start a review: of every domain (platform admins) or of one domain (its approvers)."""

    domain = forms.IntegerField(required=False, min_value=1)
