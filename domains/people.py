"""The people directory: Identity Center users synced per instance, matched with portal logins into persons.

Sync: a run of its own (:data:`DIRECTORY_SYNC`, a :class:`portal.models.TaskRun` with progress), one step per
(payer account, region) whose ``sso-admin ListInstances`` answers Identity Center instances (AWS keeps the
organisation's instance in its management account, which pays the bill), then a step that matches people. It runs
from the ``domains.run_directory_sync`` Celery task (the scheduler, the People page's "Sync directory"), from
``python manage.py sync_directory`` and from the demo.

Matching is by Identity Center user id (a link made once stays), then email, then user name, case-insensitively.
When an email and a user name point at two different people, or one of them at several, nothing is linked: a
:class:`domains.models.PersonMatch` lists the candidates for an admin to resolve. A listing that did not complete
marks nobody removed. The profiles app ties profiles to people (SSO binding, owner tag, an admin's link) when it
hears :data:`directory_matched`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.utils import timezone

from domains.models import AwsAccount, IdentityCenterUser, Person, PersonMatch
from portal import audit, runs
from portal.aws import gateway, paginate, with_retries
from portal.models import TaskRun
from portal.registry import RunKind
from portal.scoping import grants_for, is_system_actor

DIRECTORY_SYNC = RunKind("directory_sync", "Directory sync", url_prefix="domains:dirrun")
RUN_TASK = "domains.run_directory_sync"
SYNC_ACTOR = "directory sync"
MATCH_STEP = "match people"

AUDIT_ACTIONS = {
    "person.created": "Person added to the directory",
    "person.left": "Person left (gone from Identity Center)",
    "person.returned": "Person back in Identity Center",
    "person.match_opened": "Ambiguous person match listed",
    "person.match_resolved": "Ambiguous person match resolved",
}

# Sent after the directory matched people (kwargs: none): the profiles app ties profiles to people again.
directory_matched = Signal()


@dataclass(frozen=True)
class DirectoryScope:
    """A directory sync covers every payer account's Identity Center instances."""

    def to_json(self) -> dict[str, str]:
        return {"directory": "all"}


# -- starting and running ---------------------------------------------------------------------------------------
def start_directory_sync(
    *,
    actor: AbstractBaseUser | None = None,
    trigger: str = TaskRun.Trigger.USER,
    inline: bool = False,
    enqueue: bool = True,
) -> tuple[TaskRun, bool]:
    """Start a directory sync or join the one running; with ``inline`` it runs in this process before returning,
    else a worker runs it once the transaction commits (unless ``enqueue`` is False: the caller runs it)."""
    run, created = runs.start_run(
        DIRECTORY_SYNC.kind, DirectoryScope(), "Identity Center and portal logins", trigger=trigger, actor=actor
    )
    if created:
        if inline:
            run_directory_sync(run.pk)
            run.refresh_from_db()
        elif enqueue:
            from portal.celery import app

            transaction.on_commit(lambda: app.send_task(RUN_TASK, args=[run.pk]))
    return run, created


def identity_center_targets() -> list[tuple[int, str]]:
    """(account pk, region) pairs to ask for Identity Center instances: every region of the enabled payer accounts."""
    accounts = AwsAccount.objects.filter(enabled=True, is_payer=True).order_by("account_id")
    return [(a.pk, region) for a in accounts for region in a.regions]


def run_directory_sync(run_id: int) -> None:
    """Every step of a directory sync, in order (a redelivered task skips the steps already finished)."""
    run = TaskRun.objects.filter(pk=run_id).first()
    if run is None or not run.is_active:
        return
    targets = identity_center_targets()
    runs.plan(run_id, len(targets) + 1, f"Listing Identity Center in {len(targets)} account region(s)")
    complete = True
    for account_pk, region in targets:
        account = AwsAccount.objects.get(pk=account_pk)
        scope = f"identity center {account.account_id} {region}"
        if scope in TaskRun.objects.get(pk=run_id).finished_steps:
            continue
        finished = with_retries(_sync_region_step, run_id, account, region, scope)
        complete = complete and finished
    with runs.recorded_step(run_id, MATCH_STEP, final_attempt=True) as calls:
        counts = match_directory()
        runs.finish_step(run_id, scope=MATCH_STEP, counts={"people": counts}, calls=calls, message="Matched people")


def _sync_region_step(run_id: int, account: AwsAccount, region: str, scope: str, *, final_attempt: bool = True) -> bool:
    finished = False
    with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
        counts = sync_identity_center(account, region)
        runs.finish_step(run_id, scope=scope, counts={"identity_users": counts}, calls=calls, message=f"Listed {scope}")
        finished = True
    return finished


# -- Identity Center --------------------------------------------------------------------------------------------
def sync_identity_center(account: AwsAccount, region: str) -> dict[str, int]:
    """List the users and groups of every Identity Center instance of ``account`` in ``region`` and store them.
    Users missing from a completed listing are marked removed; nothing is stored when a call fails."""
    admin = gateway().sso_admin(region=region, account=account.access)
    store_client = gateway().identity_store(region=region, account=account.access)
    counts = {"created": 0, "updated": 0, "removed": 0, "unchanged": 0}
    for instance in paginate(admin, "list_instances", "Instances"):
        store_id = instance["IdentityStoreId"]
        users = paginate(store_client, "list_users", "Users", IdentityStoreId=store_id)
        groups_of: dict[str, list[str]] = defaultdict(list)
        for group in paginate(store_client, "list_groups", "Groups", IdentityStoreId=store_id):
            for membership in paginate(
                store_client,
                "list_group_memberships",
                "GroupMemberships",
                IdentityStoreId=store_id,
                GroupId=group["GroupId"],
            ):
                member = membership.get("MemberId", {}).get("UserId")
                if member:
                    groups_of[member].append(group.get("DisplayName") or group["GroupId"])
        for key, value in _store_users(account, region, store_id, users, groups_of).items():
            counts[key] += value
    return counts


def _primary_email(user: dict[str, Any]) -> str:
    emails = user.get("Emails") or []
    primary = next((e for e in emails if e.get("Primary")), emails[0] if emails else {})
    return (primary.get("Value") or "").strip()


def _store_users(
    account: AwsAccount, region: str, store_id: str, users: list[dict[str, Any]], groups_of: dict[str, list[str]]
) -> dict[str, int]:
    now = timezone.now()
    counts = {"created": 0, "updated": 0, "removed": 0, "unchanged": 0}
    with transaction.atomic():
        stored = {
            u.user_id: u for u in IdentityCenterUser.objects.select_for_update().filter(identity_store_id=store_id)
        }
        for user in users:
            values = {
                "account": account,
                "region": region,
                "user_name": user.get("UserName", ""),
                "display_name": user.get("DisplayName") or user.get("Name", {}).get("Formatted", ""),
                "email": _primary_email(user),
                "groups": sorted(groups_of.get(user["UserId"], [])),
            }
            row = stored.get(user["UserId"])
            if row is None:
                IdentityCenterUser.objects.create(identity_store_id=store_id, user_id=user["UserId"], **values)
                counts["created"] += 1
                continue
            changed = row.removed_at is not None or any(getattr(row, k) != v for k, v in values.items())
            for key, value in values.items():
                setattr(row, key, value)
            row.removed_at, row.last_seen = None, now
            row.save()
            counts["updated" if changed else "unchanged"] += 1
        listed = {u["UserId"] for u in users}
        gone = [
            pk for user_id, row in stored.items() if user_id not in listed and row.removed_at is None for pk in [row.pk]
        ]
        counts["removed"] = IdentityCenterUser.objects.filter(pk__in=gone).update(removed_at=now)
    return counts


# -- matching ---------------------------------------------------------------------------------------------------
class Index:
    """Every person by email and by user name (lower case), kept up to date as people are added."""

    def __init__(self, people: Any = None) -> None:
        self.by_email: dict[str, list[Person]] = defaultdict(list)
        self.by_name: dict[str, list[Person]] = defaultdict(list)
        for person in Person.objects.all() if people is None else people:
            self.add(person)

    @classmethod
    def of(cls, *, emails: set[str], user_names: set[str]) -> Index:
        """Only the people with these emails or user names: all :meth:`find` consults for them, without reading
        the whole directory (a sync links one domain's profiles, in every domain at once)."""
        wanted = [key.lower() for key in (*emails, *user_names)]
        found: dict[int, Person] = {}
        step = RESOLVED_BATCH // 2  # each key is asked twice, as an email and as a user name
        for start in range(0, len(wanted), step):
            batch = wanted[start : start + step]
            matching = Person.objects.annotate(lower_email=Lower("email"), lower_name=Lower("user_name")).filter(
                Q(lower_email__in=batch) | Q(lower_name__in=batch)
            )
            found.update((person.pk, person) for person in matching)
        return cls(sorted(found.values(), key=lambda person: person.pk))

    def add(self, person: Person) -> None:
        """Index a new person, or one whose email or user name was just filled in (listed once per key)."""
        for table, key in ((self.by_email, person.email), (self.by_name, person.user_name)):
            if key and all(known.pk != person.pk for known in table[key.lower()]):
                table[key.lower()].append(person)

    def find(self, *, email: str = "", user_name: str = "") -> tuple[Person | None, list[Person], str]:
        """The one person with this email, else this user name; or the candidates and why they are ambiguous."""
        by_email = self.by_email.get(email.lower(), []) if email else []
        by_name = self.by_name.get(user_name.lower(), []) if user_name else []
        if len(by_email) > 1:
            return None, by_email, f"{len(by_email)} people have the email {email}"
        if len(by_name) > 1 and not by_email:
            return None, by_name, f"{len(by_name)} people have the user name {user_name}"
        if by_email and by_name and any(p.pk != by_email[0].pk for p in by_name):
            return None, [*by_email, *by_name], f"the email {email} and the user name {user_name} name different people"
        found = by_email or by_name
        return (found[0] if found else None), [], ""


def open_match(subject: str, key: str, label: str, reason: str, candidates: list[Person]) -> PersonMatch:
    """List something that matches several people for an admin (once: an open match is not listed twice)."""
    match = PersonMatch.objects.filter(subject=subject, key=key, status=PersonMatch.Status.OPEN).first()
    if match is None:
        match = PersonMatch.objects.create(subject=subject, key=key, label=label[:400], reason=reason[:400])
        audit.record(
            "person.match_opened",
            match,
            actor=SYNC_ACTOR,
            after={"reason": reason, "candidates": [str(p) for p in candidates]},
        )
    match.candidates.add(*candidates)
    return match


def _resolved(subject: str, key: str) -> Person | None:
    """The person an admin chose for this subject earlier (their choice stays)."""
    return resolved_choices(subject, [key]).get(key)


RESOLVED_BATCH = 500  # subjects a query of resolved_choices asks about (SQLite caps a statement's parameters)


def resolved_choices(subject: str, keys: list[str]) -> dict[str, Person]:
    """The people admins chose earlier for these subjects, by key (the latest choice of each), a query per
    RESOLVED_BATCH subjects: what :func:`person_for` asks one subject at a time, for a whole batch."""
    chosen: dict[str, Person] = {}
    for start in range(0, len(keys), RESOLVED_BATCH):
        matches = (
            PersonMatch.objects.filter(
                subject=subject, key__in=keys[start : start + RESOLVED_BATCH], status=PersonMatch.Status.RESOLVED
            )
            .select_related("chosen")
            .order_by("resolved_at", "pk")
        )
        for match in matches:
            if match.chosen is not None:
                chosen[match.key] = match.chosen
    return chosen


def _create(index: Index, *, display_name: str, email: str = "", user_name: str = "", **extra: Any) -> Person:
    person = Person.objects.create(
        display_name=(display_name or email or user_name)[:200], email=email, user_name=user_name, **extra
    )
    index.add(person)
    audit.record("person.created", person, actor=SYNC_ACTOR, after={"email": email, "user_name": user_name})
    return person


def person_for(
    index: Index,
    *,
    subject: str,
    key: str,
    label: str,
    email: str = "",
    user_name: str = "",
    display_name: str = "",
    resolved: dict[str, Person] | None = None,
) -> Person | None:
    """The person behind a subject (an owner tag...): an admin's earlier choice, the one match, or a new person;
    None when the match is ambiguous (then listed for an admin). ``resolved``: the admins' choices of a batch of
    subjects, read beforehand with :func:`resolved_choices`."""
    chosen = resolved.get(key) if resolved is not None else _resolved(subject, key)
    if chosen is not None:
        return chosen
    person, candidates, reason = index.find(email=email, user_name=user_name)
    if candidates:
        open_match(subject, key, label, reason, candidates)
        return None
    if person is None:
        person = _created_meanwhile(index, email=email, user_name=user_name)
    if person is None:
        person = _create(index, display_name=display_name, email=email, user_name=user_name)
    return person


def _committed_person(email: str, user_name: str) -> Person | None:
    """The person with this email (else user name) as the database holds it now, not as an index read it."""
    if not (email or user_name):
        return None
    match = (Q(email__iexact=email) if email else Q()) | (Q(user_name__iexact=user_name) if user_name else Q())
    return Person.objects.filter(match).order_by("pk").first()


def _created_meanwhile(index: Index, *, email: str, user_name: str) -> Person | None:
    """The person another transaction created since ``index`` was read, or None: domains sync in parallel, and one
    owner's profiles in two domains made two people of them. Read again; on PostgreSQL first wait for a transaction
    that is creating the same person (the lock is the creator's until it commits), so the second reads the first's
    person instead of making its own."""
    person = _committed_person(email, user_name)
    if person is None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = f"portal-person:{(email or user_name).lower()}"
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
        person = _committed_person(email, user_name)
    if person is not None:
        index.add(person)
    return person


def match_directory() -> dict[str, int]:
    """Tie Identity Center users and portal logins to people, let the profiles app tie profiles, then decide who
    has left. Counts what changed."""
    counts = {"linked": 0, "ambiguous": 0, "left": 0, "returned": 0}
    with transaction.atomic():
        index = Index()
        for identity in IdentityCenterUser.objects.filter(person__isnull=True).order_by("user_name", "pk"):
            key = f"{identity.identity_store_id}/{identity.user_id}"
            person = person_for(
                index,
                subject=PersonMatch.Subject.IDENTITY_USER,
                key=key,
                label=f"{identity.user_name} ({identity.email or 'no email'}) in {identity.identity_store_id}",
                email=identity.email,
                user_name=identity.user_name,
                display_name=identity.display_name,
            )
            if person is None:
                counts["ambiguous"] += 1
                continue
            changed = []
            for field, value in (("email", identity.email), ("user_name", identity.user_name)):
                if value and not getattr(person, field):
                    setattr(person, field, value)
                    changed.append(field)
            if changed:
                person.save(update_fields=[*changed, "updated_at"])
                index.add(person)
            identity.person = person
            identity.save(update_fields=["person"])
            counts["linked"] += 1
        linked_users = Person.objects.filter(portal_user__isnull=False).values("portal_user")
        for user in get_user_model().objects.filter(is_active=True).exclude(pk__in=linked_users).order_by("pk"):
            person = person_for(
                index,
                subject=PersonMatch.Subject.PORTAL_LOGIN,
                key=user.get_username(),
                label=f"login {user.get_username()} ({user.email or 'no email'})",
                email=user.email,
                user_name=user.get_username(),
                display_name=user.get_full_name() or user.get_username(),
            )
            if person is None:
                counts["ambiguous"] += 1
            elif person.portal_user_id is None:
                Person.objects.filter(pk=person.pk).update(portal_user=user)
                counts["linked"] += 1
        directory_matched.send(sender=Person, index=index)
        counts.update(refresh_statuses())
    return counts


def person_for_login(user: Any) -> Person:
    """The person of a portal login: theirs already, or matched (email, then user name), or added now."""
    person = Person.objects.filter(portal_user=user).first()
    if person is not None:
        return person
    with transaction.atomic():
        person = person_for(
            Index(),
            subject=PersonMatch.Subject.PORTAL_LOGIN,
            key=user.get_username(),
            label=f"login {user.get_username()} ({user.email or 'no email'})",
            email=user.email,
            user_name=user.get_username(),
            display_name=user.get_full_name() or user.get_username(),
        )
        if person is None:
            raise ValidationError(
                f"The login {user.get_username()} matches several people in the directory: a platform admin says "
                f"which one it is on the People page first."
            )
        if person.portal_user_id is None:
            Person.objects.filter(pk=person.pk).update(portal_user=user)
            person.portal_user = user
        elif person.portal_user_id != user.pk:
            person = _create(
                Index(),
                display_name=user.get_full_name() or user.get_username(),
                email="",
                user_name="",
                portal_user=user,
            )
    return person


def knows_identity_center() -> bool:
    """Whether an Identity Center listing ever completed (else nobody is judged by it)."""
    return IdentityCenterUser.objects.exists()


def refresh_statuses() -> dict[str, int]:
    """A person has left when Identity Center lost them: they had a user there and none is left, or the SSO
    binding of one of their live profiles names no Identity Center user. Audited per change."""
    if not knows_identity_center():
        return {"left": 0, "returned": 0}
    live = IdentityCenterUser.objects.filter(person=OuterRef("pk"), removed_at__isnull=True)
    gone = IdentityCenterUser.objects.filter(person=OuterRef("pk"), removed_at__isnull=False)
    profiles = Person._meta.get_field("user_profiles").related_model
    bound = profiles.objects.filter(person=OuterRef("pk"), removed_at__isnull=True).exclude(sso_user_value="")
    people = Person.objects.annotate(live=Exists(live), gone=Exists(gone), bound=Exists(bound))
    now = timezone.now()
    counts = {"left": 0, "returned": 0}
    for person in people.filter(~Q(live=True) & (Q(gone=True) | Q(bound=True)), status=Person.Status.ACTIVE):
        Person.objects.filter(pk=person.pk).update(status=Person.Status.LEFT, left_at=now, updated_at=now)
        audit.record("person.left", person, actor=SYNC_ACTOR, after={"status": Person.Status.LEFT})
        counts["left"] += 1
    for person in people.filter(Q(live=True) | (Q(gone=False) & Q(bound=False)), status=Person.Status.LEFT):
        Person.objects.filter(pk=person.pk).update(status=Person.Status.ACTIVE, left_at=None, updated_at=now)
        audit.record("person.returned", person, actor=SYNC_ACTOR, after={"status": Person.Status.ACTIVE})
        counts["returned"] += 1
    return counts


# -- resolving --------------------------------------------------------------------------------------------------
def check_can_resolve(actor: Any, match: PersonMatch) -> None:
    if not is_system_actor(actor) and not grants_for(actor).is_admin:
        raise ValidationError("Only a platform admin resolves ambiguous people.")
    if match.status != PersonMatch.Status.OPEN:
        raise ValidationError("This match is resolved already.")


def do_resolve_match(match: PersonMatch, *, actor: Any, person: Person) -> PersonMatch:
    """An admin says which person a subject is; the next match (run now) links it."""
    with transaction.atomic():
        match = PersonMatch.objects.select_for_update().get(pk=match.pk)
        check_can_resolve(actor, match)
        if not match.candidates.filter(pk=person.pk).exists():
            raise ValidationError({"person": "Choose one of the candidates listed."})
        match.status, match.chosen = PersonMatch.Status.RESOLVED, person
        match.resolved_by = actor if not is_system_actor(actor) else None
        match.resolved_at = timezone.now()
        match.save()
        audit.record("person.match_resolved", match, actor=actor, after={"person": str(person), "key": match.key})
        if match.subject == PersonMatch.Subject.IDENTITY_USER:
            store_id, _, user_id = match.key.partition("/")
            IdentityCenterUser.objects.filter(identity_store_id=store_id, user_id=user_id).update(person=person)
        elif match.subject == PersonMatch.Subject.PORTAL_LOGIN and person.portal_user_id is None:
            user = get_user_model().objects.filter(username=match.key).first()
            if user is not None:
                Person.objects.filter(pk=person.pk).update(portal_user=user)
        match_directory()
    return match
