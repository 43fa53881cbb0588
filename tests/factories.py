"""Factories shared by the suite's tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

TEST_PASSWORD = "correct-horse-battery"  # noqa: S105


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805
        if create:
            obj.save()


class AwsAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "domains.AwsAccount"
        django_get_or_create = ("account_id",)

    account_id = factory.Sequence(lambda n: f"{100000000000 + n}")
    name = factory.LazyAttribute(lambda a: f"Account {a.account_id}")
    regions = factory.LazyFunction(lambda: ["us-east-1"])


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "domains.Domain"

    account = factory.SubFactory(AwsAccountFactory)
    region = "us-east-1"
    domain_id = factory.Sequence(lambda n: f"d-{n:012d}")
    arn = factory.LazyAttribute(lambda d: f"arn:aws:sagemaker:{d.region}:{d.account.account_id}:domain/{d.domain_id}")
    name = factory.Sequence(lambda n: f"domain{n}")
    status = "InService"
    auth_mode = "IAM"
    network_access_type = "PublicInternetOnly"
    studio_experience = "new"


class UserProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "profiles.UserProfile"

    domain = factory.SubFactory(DomainFactory)
    name = factory.Sequence(lambda n: f"person{n}")
    arn = factory.LazyAttribute(
        lambda p: (
            f"arn:aws:sagemaker:{p.domain.region}:{p.domain.account.account_id}:user-profile/"
            f"{p.domain.domain_id}/{p.name}"
        )
    )
    status = "InService"


class SpaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "profiles.Space"

    domain = factory.SubFactory(DomainFactory)
    name = factory.Sequence(lambda n: f"space{n}")
    arn = factory.LazyAttribute(
        lambda s: (
            f"arn:aws:sagemaker:{s.domain.region}:{s.domain.account.account_id}:space/{s.domain.domain_id}/{s.name}"
        )
    )
    sharing_type = "Shared"
    status = "InService"


class AppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "profiles.App"

    domain = factory.SubFactory(DomainFactory)
    user_profile = factory.SubFactory(UserProfileFactory, domain=factory.SelfAttribute("..domain"))
    user_profile_name = factory.LazyAttribute(lambda a: a.user_profile.name)
    app_type = "JupyterLab"
    name = factory.Sequence(lambda n: f"app{n}")
    arn = factory.LazyAttribute(
        lambda a: (
            f"arn:aws:sagemaker:{a.domain.region}:{a.domain.account.account_id}:app/"
            f"{a.domain.domain_id}/{a.user_profile_name}/jupyterlab/{a.name}"
        )
    )
    status = "InService"
    instance_type = "ml.t3.medium"


def grant(user: object, role: str, domain: object | None = None) -> None:
    """Give ``user`` a role in ``domain`` (every domain when None) through the service."""
    from portal.roles import do_assign_role

    do_assign_role(user, role, domain_arn=getattr(domain, "arn", ""), actor="test")
