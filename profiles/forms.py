"""Forms of the profiles app."""

from __future__ import annotations

from typing import Any

from django import forms

from profiles import services


class LinkPersonForm(forms.Form):
    """Pick the person a profile belongs to; none gives the profile back to the automatic match."""

    person = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="— automatic match (SSO binding, owner tag) —",
        help_text="The person this profile belongs to, from the directory.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["person"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = services.linkable_people(user)
        field.label_from_instance = lambda p: (
            f"{p.display_name} ({p.email or p.user_name or 'no email'})" + (" · left" if p.has_left else "")
        )
