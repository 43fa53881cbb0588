"""The inventory sync, members side: one domain's user profiles, spaces and apps.

Listings use the largest page AWS allows; only what is new or changed according to the listing (LastModifiedTime,
Status) is described. Upserts are in bulk and write only changed rows. A listing that did not complete marks
nothing removed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from domains import people
from domains.models import Domain
from domains.signals import domains_removed, member_sync_requested
from domains.sync import claim_domain, release_domain
from portal import runs
from portal.aws import ResourceTags, gateway, paginate, with_retries
from profiles import services
from profiles.models import App, Space, UserProfile
from profiles.services import Listing, app_values, profile_values, space_values


def step_name(domain: Domain) -> str:
    return f"members of {domain.domain_id}"


def sync_domain_members(run_id: int, domain_pk: int, *, final_attempt: bool = True) -> None:
    domain = Domain.objects.select_related("account").filter(pk=domain_pk).first()
    if domain is None:
        runs.finish_step(run_id, scope=f"domain #{domain_pk}", error="The domain left the inventory.")
        return
    scope = step_name(domain)
    holder = claim_domain(run_id, domain.pk)
    if holder is not None:
        note = f"{domain.name} was being synced by run #{holder}; this run joined that sync instead of doubling it."
        runs.finish_step(run_id, scope=scope, note=note)
        return
    completed = False
    try:
        with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
            listing = _fetch(domain)
            with transaction.atomic():
                counts = services.store_members(domain, listing)
                for kind, made in listing.calls_by_kind.items():
                    counts.setdefault(kind, {})["aws_calls"] = made
                runs.finish_step(
                    run_id,
                    scope=scope,
                    counts=counts,
                    calls=calls,
                    message=f"Synced {domain.name}",
                    note=listing.note,
                )
            completed = True
    finally:
        release_domain(run_id, domain.pk, completed=completed)


@receiver(member_sync_requested, dispatch_uid="profiles.sync_members_inline")
def _sync_members_inline(sender: Any, run_id: int, domain_pk: int, **kwargs: Any) -> None:
    with_retries(sync_domain_members, run_id, domain_pk)


@receiver(domains_removed, dispatch_uid="profiles.members_of_removed_domains")
def _remove_members_of_removed_domains(sender: Any, domain_pks: list[int], at: Any, **kwargs: Any) -> None:
    """A domain that is gone takes its profiles, spaces and apps with it (kept, marked removed)."""
    services.remove_members_of_domains(domain_pks, at=at)


# -- fetching ---------------------------------------------------------------------------------------------------


def _arn(domain: Domain, kind: str, *parts: str) -> str:
    return f"arn:aws:sagemaker:{domain.region}:{domain.account.account_id}:{kind}/{domain.domain_id}/" + "/".join(parts)


def app_arn(domain: Domain, owner_name: str, app_type: str, app_name: str) -> str:
    """AWS writes the app type in lower case in app ARNs; one spelling keeps the inventory's key stable."""
    return _arn(domain, "app", owner_name, app_type.lower(), app_name)


def _changed(stored: Any, summary: dict[str, Any], modified_key: str = "LastModifiedTime") -> bool:
    if stored is None or stored.removed_at is not None:
        return True
    if stored.status != summary.get("Status"):
        return True
    return modified_key is not None and stored.aws_modified_at != summary.get(modified_key)


def _fetch(domain: Domain) -> Listing:
    """List the domain's profiles, spaces and apps; describe the new and changed profiles and spaces; read the tags
    of every new or changed member with GetResources, 100 a call (ListTags where that is refused).

    Apps are never described here: ListApps carries all the inventory keeps of an app except its last user
    activity, which :mod:`profiles.activity` reads for the apps that need it (check CO-04's candidates)."""
    client = gateway().sagemaker(region=domain.region, account=domain.account.access)
    tagger = ResourceTags(region=domain.region, account=domain.account.access, sagemaker=client)
    listing = Listing()
    stored_profiles = {
        p.arn: p
        for p in UserProfile.objects.filter(domain=domain).only("arn", "status", "aws_modified_at", "removed_at")
    }
    with listing.counting("user_profiles"):
        answers = {}
        for summary in paginate(client, "list_user_profiles", "UserProfiles", DomainIdEquals=domain.domain_id):
            arn = _arn(domain, "user-profile", summary["UserProfileName"])
            listing.profile_arns.append(arn)
            if _changed(stored_profiles.get(arn), summary):
                answers[arn] = client.describe_user_profile(
                    DomainId=domain.domain_id, UserProfileName=summary["UserProfileName"]
                )
        tags = tagger.fetch([a["UserProfileArn"] for a in answers.values()], "sagemaker:user-profile")
        for arn, answer in answers.items():
            listing.profiles[arn] = profile_values(answer, tags.get(answer["UserProfileArn"], {}))

    stored_spaces = {
        s.arn: s for s in Space.objects.filter(domain=domain).only("arn", "status", "aws_modified_at", "removed_at")
    }
    with listing.counting("spaces"):
        answers = {}
        for summary in paginate(client, "list_spaces", "Spaces", DomainIdEquals=domain.domain_id):
            arn = _arn(domain, "space", summary["SpaceName"])
            listing.space_arns.append(arn)
            if _changed(stored_spaces.get(arn), summary):
                answers[arn] = client.describe_space(DomainId=domain.domain_id, SpaceName=summary["SpaceName"])
        tags = tagger.fetch([a["SpaceArn"] for a in answers.values()], "sagemaker:space")
        for arn, answer in answers.items():
            listing.spaces[arn] = space_values(answer, tags.get(answer["SpaceArn"], {}))

    stored_apps = {a.arn: a for a in App.objects.filter(domain=domain).only("arn", "status", "removed_at")}
    with listing.counting("apps"):
        summaries = {}
        for summary in paginate(client, "list_apps", "Apps", DomainIdEquals=domain.domain_id):
            owner = summary.get("UserProfileName") or summary.get("SpaceName") or ""
            arn = app_arn(domain, owner, summary["AppType"], summary["AppName"])
            listing.app_arns.append(arn)
            stored = stored_apps.get(arn)
            if stored is None or stored.removed_at is not None or stored.status != summary.get("Status"):
                summaries[arn] = summary
        tags = tagger.fetch(list(summaries), "sagemaker:app")
        for arn, summary in summaries.items():
            listing.apps[arn] = app_values(summary, tags.get(arn, {}))
    listing.note = tagger.fallback_note()
    return listing


@receiver(people.directory_matched, dispatch_uid="profiles.link_people")
def _link_people_after_directory_match(sender: Any, index: people.Index, **kwargs: Any) -> None:
    """The directory matched people again: tie every profile to its person."""
    services.link_people(index=index)
