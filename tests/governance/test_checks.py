"""Checks the demo does not trigger yet, on rows crafted to fail and to pass."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from governance import engine
from governance.models import Finding, GovernancePolicy
from tests.factories import DomainFactory, SpaceFactory, UserProfileFactory

pytestmark = pytest.mark.django_db


def idle(**values: Any) -> dict[str, Any]:
    return {"JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": values}}}


def open_checks(name: str) -> set[str]:
    engine.evaluate(now=timezone.now())
    return set(Finding.objects.filter(resource_name=name, status="open").values_list("check_id", flat=True))


@pytest.mark.parametrize("regulated", [True, False])
def test_id04_iam_on_a_regulated_domain(regulated: bool) -> None:
    domain = DomainFactory(name="ledger", auth_mode="IAM", tags={"data-classification": "confidential"})
    GovernancePolicy.objects.create(domain=domain, regulated="auto" if regulated else "no")
    assert ("ID-04" in open_checks("ledger")) is regulated


@pytest.mark.parametrize(("timeout", "fires"), [(240, True), (120, False)])
def test_co02_idle_timeout_above_the_cap(timeout: int, fires: bool) -> None:
    domain = DomainFactory()
    UserProfileFactory(
        domain=domain, name="ana", settings_snapshot=idle(LifecycleManagement="ENABLED", IdleTimeoutInMinutes=timeout)
    )
    assert ("CO-02" in open_checks("ana")) is fires


@pytest.mark.parametrize(("own", "fires"), [(300, True), (100, False)])
def test_co03_space_timeout_above_the_maximum(own: int, fires: bool) -> None:
    domain = DomainFactory(
        settings_snapshot={"DefaultSpaceSettings": idle(LifecycleManagement="ENABLED", MaxIdleTimeoutInMinutes=120)}
    )
    SpaceFactory(
        domain=domain, name="lab", settings_snapshot={"AppType": "JupyterLab", **idle(IdleTimeoutInMinutes=own)}
    )
    assert ("CO-03" in open_checks("lab")) is fires


@pytest.mark.parametrize(("docker", "fires"), [("ENABLED", True), ("DISABLED", False)])
def test_se03_docker_access(docker: str, fires: bool) -> None:
    DomainFactory(name="dock", settings_snapshot={"DomainSettings": {"DockerSettings": {"EnableDockerAccess": docker}}})
    assert ("SE-03" in open_checks("dock")) is fires


@pytest.mark.parametrize(("remote", "fires"), [("ENABLED", True), ("DISABLED", False)])
def test_se04_remote_access(remote: str, fires: bool) -> None:
    SpaceFactory(name="remote", settings_snapshot={"AppType": "JupyterLab", "RemoteAccess": remote})
    assert ("SE-04" in open_checks("remote")) is fires


def test_passing_domain_has_no_domain_findings() -> None:
    DomainFactory(
        name="tidy",
        auth_mode="SSO",
        network_access_type="VpcOnly",
        tag_propagation="ENABLED",
        tags={"cost-center": "CC-1"},
        settings_snapshot={
            "KmsKeyId": "key",
            "DomainSettings": {"ExecutionRoleIdentityConfig": "USER_PROFILE_NAME"},
            "DefaultUserSettings": {"StudioWebPortal": "ENABLED", "DefaultLandingUri": "studio::"},
        },
    )
    assert open_checks("tidy") == set()
