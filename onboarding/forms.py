"""Forms of the onboarding pages. Choices come from what the person may do; the rules live in the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from domains.models import Domain, Person
from onboarding.models import HIDEABLE_APP_TYPES, HIDEABLE_ML_TOOLS, SPACE_APP_TYPES, PersonaTemplate, SpacePolicy
from onboarding.services import PERSONA_FIELDS, directory_person
from portal.pricing import HOURLY_USD
from portal.scoping import MANAGE, REQUEST_PROFILE, REQUEST_SPACE, grants_for
from portal.validation import EBS_SIZE_GB, IDLE_TIMEOUT_MINUTES

INSTANCE_CHOICES = [(t, t) for t in HOURLY_USD]


def live_domains(user: Any, *actions: str) -> QuerySet:
    """InService domains of the inventory where ``user`` may do one of ``actions`` (the domains' own scoping)."""
    allowed = Domain.objects.none()
    for action in actions:
        allowed |= Domain.objects.restrict(user, action)
    return allowed.filter(removed_at__isnull=True, status="InService").select_related("account").order_by("name")


class DomainChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Domain) -> str:
        return f"{obj.name} (account {obj.account.account_id}, {obj.region})"


class PersonaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PersonaTemplate) -> str:
        return obj.name


def chosen_domain(form: forms.Form) -> Domain | None:
    """The domain picked so far (bound data or initial), among the ones the form offers."""
    value = form.data.get("domain") or form.initial.get("domain")
    if not value:
        return None
    try:
        return form.fields["domain"].queryset.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


class DirectoryLoginChoiceField(forms.ModelChoiceField):
    """A person of the directory who has a portal login, given by the login's user name; cleans to the person."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.portal_user.get_username()})"

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Person):
            return value.portal_user.get_username()
        return super().prepare_value(value)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        found = self.queryset.filter(portal_user__username=str(value)).first()
        if found is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found


class ProfileRequestForm(forms.Form):
    domain = DomainChoiceField(queryset=Domain.objects.none(), empty_label="Choose a domain")
    template = PersonaChoiceField(
        queryset=PersonaTemplate.objects.none(), label="Persona", empty_label="Choose the domain first"
    )
    person = DirectoryLoginChoiceField(
        queryset=Person.objects.none(),
        required=False,
        label="For",
        help_text="Admins and approvers may ask on behalf of a person of the directory (one with a portal login).",
    )
    justification = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}), label="What you will work on"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["domain"].queryset = live_domains(user, REQUEST_PROFILE, MANAGE)
        if grants_for(user).domains_for(MANAGE):
            self.fields["person"].queryset = (
                Person.objects.restrict(user)
                .filter(portal_user__is_active=True)
                .select_related("portal_user")
                .order_by("display_name", "pk")
            )
            self.fields["person"].empty_label = f"Myself ({user.get_username()})"
        else:
            del self.fields["person"]
        domain = self.chosen_domain()
        if domain is not None:
            self.fields["template"].queryset = PersonaTemplate.objects.filter(domain=domain, active=True)
            self.fields["template"].empty_label = (
                "Choose a persona" if self.fields["template"].queryset.exists() else "This domain has no persona yet"
            )

    def chosen_domain(self) -> Domain | None:
        return chosen_domain(self)


class SpaceRequestForm(forms.Form):
    domain = DomainChoiceField(queryset=Domain.objects.none(), empty_label="Choose a domain")
    space_name = forms.CharField(max_length=63, help_text="Letters, digits and dashes, e.g. churn-model-2027.")
    display_name = forms.CharField(max_length=64, required=False)
    app_type = forms.ChoiceField(choices=SPACE_APP_TYPES, label="Application")
    instance_type = forms.ChoiceField(choices=INSTANCE_CHOICES)
    ebs_size_gb = forms.IntegerField(**EBS_SIZE_GB.field_kwargs(), initial=20, label="Storage (GB)")
    idle_timeout_minutes = forms.IntegerField(
        **IDLE_TIMEOUT_MINUTES.field_kwargs(), initial=60, label="Idle shutdown after (minutes)"
    )
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Expires on")
    purpose = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("expires_on", timezone.localdate() + timedelta(days=90))
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = live_domains(user, REQUEST_SPACE)
        domain = self.chosen_domain()
        policy = SpacePolicy.objects.filter(domain=domain).first() if domain else None
        if policy is not None:
            self.fields["instance_type"].choices = [(t, t) for t in policy.allowed_instance_types]
            self.fields["ebs_size_gb"].max_value = policy.max_ebs_gb
            self.fields["ebs_size_gb"].help_text = f"At most {policy.max_ebs_gb} GB in {domain.name}."
        self.policy = policy

    def chosen_domain(self) -> Domain | None:
        return chosen_domain(self)


class DecisionForm(forms.Form):
    reason = forms.CharField(required=False, max_length=1000)


class ExtendForm(forms.Form):
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class ListField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class PersonaTemplateForm(forms.ModelForm):
    hidden_app_types = ListField(choices=[(a, a) for a in HIDEABLE_APP_TYPES], required=False)
    hidden_ml_tools = ListField(choices=[(t, t) for t in HIDEABLE_ML_TOOLS], required=False, label="Hidden ML tools")
    allowed_instance_types = ListField(choices=INSTANCE_CHOICES)

    class Meta:
        model = PersonaTemplate
        fields = ["domain", *PERSONA_FIELDS]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = live_domains(user, MANAGE)
        if self.instance.pk:
            self.fields["domain"].disabled = True


class SpacePolicyForm(forms.ModelForm):
    allowed_instance_types = ListField(choices=INSTANCE_CHOICES)

    class Meta:
        model = SpacePolicy
        fields = ["allowed_instance_types", "max_ebs_gb", "max_days", "auto_approve_quota"]


class PersonChoiceField(forms.ModelChoiceField):
    """A person of the directory, by id; a portal login's user name is accepted too (links to an older page)."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if isinstance(value, str) and not value.isdigit():
            user = get_user_model().objects.filter(username=value).first()
            if user is None:
                raise forms.ValidationError("No such person.", code="invalid_choice")
            try:
                person = directory_person(user)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
            value = person.pk
        return super().to_python(value)


class OffboardingForm(forms.Form):
    person = PersonChoiceField(queryset=Person.objects.none(), empty_label="Choose a person")
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    close_login = forms.BooleanField(
        required=False,
        initial=True,
        label="Final step: remove their portal roles, revoke their API tokens and deactivate their portal login",
    )
    keep_login_reason = forms.CharField(
        max_length=1000, required=False, label="Why the portal login stays (when the final step is unticked)"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.restrict(user).order_by("display_name", "pk")
        if not grants_for(user).is_admin:  # only a platform admin keeps a leaver's login
            del self.fields["close_login"]
            del self.fields["keep_login_reason"]
