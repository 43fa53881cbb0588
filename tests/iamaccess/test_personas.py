"""A persona warns on save when its execution role does not enforce what it hides (from the role's cached
evaluation, no IAM call), offers the deny statements that would, and is saved all the same."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from domains.models import Domain
from iamaccess.models import ExecutionRole
from onboarding.models import PersonaTemplate
from portal.aws import call_counter
from portal.models import AuditEvent
from tests.iamaccess.world import role_arn

pytestmark = pytest.mark.django_db


def approver() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="approver"))
    return client


def test_saving_a_persona_whose_role_allows_hidden_canvas_warns_and_offers_the_deny(reviewed: Any) -> None:
    from onboarding import demo as onboarding_demo

    onboarding_demo.setup_demo(lambda message: None)  # the demo's personas
    domain = Domain.objects.get(name="research-lab")
    persona = PersonaTemplate.objects.get(domain=domain, name="Data scientist")
    assert persona.execution_role == role_arn("research") and "Canvas" in persona.hidden_app_types
    form = {
        "domain": domain.pk,
        "name": persona.name,
        "description": "Canvas hidden, endpoints too.",
        "execution_role": persona.execution_role,
        "allowed_instance_types": persona.allowed_instance_types,
        "hidden_app_types": ["JupyterServer", "Canvas"],
        "hidden_ml_tools": ["AutoMl", "Endpoints"],
        "idle_timeout_minutes": 60,
        "studio_new_landing": "on",
        "active": "on",
    }
    iam_calls = call_counter.total("iam")
    saved = approver().post(reverse("onboarding:persona-edit", args=[persona.pk]), form, follow=True)
    assert call_counter.total("iam") == iam_calls  # the cached evaluation answers, IAM is not asked
    persona.refresh_from_db()
    assert persona.description == "Canvas hidden, endpoints too." and "Endpoints" in persona.hidden_ml_tools
    assert AuditEvent.objects.filter(action="persona.updated").exists()
    assert saved.redirect_chain[-1][0] == reverse("onboarding:persona-edit", args=[persona.pk])
    text = saved.content.decode()
    assert "Hidden in Studio but allowed by ResearchLabExecution" in text and "app Canvas" in text
    assert 'id="persona-deny"' in text and "NoHiddenApps" in text and "sagemaker:CreateEndpoint" in text
    check = saved.context["role_check"]
    assert check["status"] == "leaks"
    assert {"app:Canvas", "tool:Endpoints", "tool:AutoMl"} <= {leak["subject"] for leak in check["leaks"]}
    assert "app:JupyterServer" not in {leak["subject"] for leak in check["leaks"]}  # Classic: not probed

    api = approver().get(f"/api/personas/{persona.pk}/").json()
    assert api["role_check"]["status"] == "leaks" and api["role_check"]["deny"]["Statement"]
    listed = approver().get("/api/personas/").json()
    assert all(row["role_check"] is None for row in listed["results"])


def test_the_api_says_when_the_role_enforces_it_and_when_it_is_not_known(reviewed: Any) -> None:
    risk = Domain.objects.get(name="risk-analytics")
    role = ExecutionRole.objects.get(arn=role_arn("risk"))
    body = {
        "domain": risk.arn,
        "name": "AutoML-free analyst",
        "execution_role": role.arn,
        "allowed_instance_types": ["ml.t3.medium", "ml.p3.2xlarge", "ml.g5.2xlarge"],
        "hidden_app_types": [],
        "hidden_ml_tools": ["AutoMl"],
    }
    enforced = approver().post("/api/personas/", body, content_type="application/json")
    assert enforced.status_code == 201, enforced.content
    assert enforced.json()["role_check"]["status"] == "enforced" and enforced.json()["role_check"]["deny"] is None
    narrow = (
        approver()
        .patch(
            f"/api/personas/{enforced.json()['id']}/",
            {"allowed_instance_types": ["ml.t3.medium"]},
            content_type="application/json",
        )
        .json()["role_check"]
    )
    assert narrow["status"] == "leaks"
    assert {"instance:ml.p3.2xlarge", "instance:ml.g5.2xlarge"} <= {leak["subject"] for leak in narrow["leaks"]}
    assert narrow["deny"]["Statement"][0]["Sid"] == "OnlyTheTeamsInstanceTypes"
    unknown = approver().post(
        "/api/personas/",
        {**body, "name": "New role", "execution_role": f"arn:aws:iam::{risk.account.account_id}:role/NotReviewedYet"},
        content_type="application/json",
    )
    assert unknown.status_code == 201 and unknown.json()["role_check"]["status"] == "unknown"
