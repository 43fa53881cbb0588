"""Demo data of onboarding: personas and space policies for the demo domains, and requests waiting for a decision.

Log in as ``scientist`` to request a profile in payments-fraud (an SSO domain), as ``approver`` to decide on the
request already waiting, as ``lead`` to request a shared space in research-lab (approved by quota).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from domains.models import Domain
from onboarding import services
from onboarding.models import PersonaTemplate, ProfileRequest, SpacePolicy, SpaceRequest

GENERAL = ["ml.t3.medium", "ml.t3.large", "ml.m5.large", "ml.m5.xlarge"]
GPU = [*GENERAL, "ml.g4dn.xlarge", "ml.g5.xlarge"]
# domain -> (allowed space instance types, auto-approval quota)
POLICIES = {
    "research-lab": (GPU, 4),
    "risk-analytics": (GENERAL, 0),
    "payments-fraud": (GENERAL, 1),
    "quickstart-sandbox": (["ml.t3.medium"], 0),
}


def _role(domain: Domain) -> str:
    return domain.default_execution_role or f"arn:aws:iam::{domain.account.account_id}:role/SageMakerExecution"


def setup_demo(log: Callable[[str], None]) -> None:
    domains = list(Domain.objects.filter(removed_at__isnull=True).select_related("account"))
    for domain in domains:
        if domain.name == "legacy-forecasting":
            continue  # Studio Classic, being migrated: no new profiles there
        personas = [
            PersonaTemplate(
                domain=domain,
                name="Data scientist",
                description="Notebooks on CPU instances; Studio Classic and Canvas hidden.",
                execution_role=_role(domain),
                allowed_instance_types=GENERAL,
                hidden_app_types=["JupyterServer", "Canvas"],
                hidden_ml_tools=["AutoMl"],
                idle_timeout_minutes=60,
            )
        ]
        if domain.name == "research-lab":
            personas.append(
                PersonaTemplate(
                    domain=domain,
                    name="ML engineer (GPU)",
                    description="Training on GPUs; idle shutdown after two hours.",
                    execution_role=_role(domain),
                    allowed_instance_types=GPU,
                    hidden_app_types=["JupyterServer"],
                    idle_timeout_minutes=120,
                )
            )
        for persona in personas:
            if not PersonaTemplate.objects.filter(domain=domain, name=persona.name).exists():
                services.do_save_persona(persona, actor="demo")
        if domain.name in POLICIES and not SpacePolicy.objects.filter(domain=domain).exists():
            allowed, quota = POLICIES[domain.name]
            services.do_save_space_policy(
                SpacePolicy(
                    domain=domain,
                    allowed_instance_types=allowed,
                    auto_approve_quota=quota,
                    max_ebs_gb=200,
                    max_days=180,
                ),
                actor="demo",
            )
    log(f"Personas: {PersonaTemplate.objects.count()}; space policies: {SpacePolicy.objects.count()}.")
    users = get_user_model().objects.in_bulk(["scientist", "lead"], field_name="username")
    by_name = {d.name: d for d in domains}
    quick = by_name.get("quickstart-sandbox")
    scientist = users.get("scientist")
    if quick and scientist and not ProfileRequest.objects.filter(person=scientist, domain=quick).exists():
        try:
            req = services.do_submit_profile_request(
                actor=scientist,
                person=scientist,
                domain=quick,
                template=quick.persona_templates.first(),
                justification="Trying a forecasting idea before moving it to research-lab.",
            )
            log(f"Profile request {req.request_id} ({req.profile_name} in {quick.name}) waits for the approver.")
        except ValidationError as exc:
            log(f"No demo profile request: {' '.join(exc.messages)}")
    research = by_name.get("research-lab")
    lead = users.get("lead")
    if research and lead and not SpaceRequest.objects.filter(domain=research).exists():
        try:
            req = services.do_submit_space_request(
                actor=lead,
                domain=research,
                space_name="churn-features",
                display_name="Churn features",
                app_type="CodeEditor",
                instance_type="ml.m5.large",
                ebs_size_gb=30,
                idle_timeout_minutes=90,
                expires_on=timezone.localdate() + timedelta(days=5),
                purpose="Feature pipeline for the churn model.",
            )
            log(f"Space request {req.request_id} ({req.space_name}) was {req.get_status_display().lower()}.")
        except ValidationError as exc:
            log(f"No demo space request: {' '.join(exc.messages)}")
