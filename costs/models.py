"""Spend from Cost Explorer, kept per day and per domain, profile and space, and the rollups pages read."""

from __future__ import annotations

from uuid import uuid4

from django.db import models
from django.db.models import Q

from domains.models import AwsAccount
from portal.querysets import RestrictedQuerySet
from portal.scoping import ALL_DOMAINS, VIEW_COSTS, Grants, domain_q
from portal.validation import MAX_THRESHOLDS, THRESHOLD_PERCENT

DOMAIN_TAG = "sagemaker:domain-arn"
PROFILE_TAG = "sagemaker:user-profile-arn"
SPACE_TAG = "sagemaker:space-arn"
COST_TAGS = (DOMAIN_TAG, PROFILE_TAG, SPACE_TAG)


def spend_scope(grants: Grants, action: str) -> Q | None:
    """Spend of the domains where a role allows reading costs; a data scientist's own profiles' spend otherwise."""
    domains = grants.domains_for(VIEW_COSTS)
    if domains is ALL_DOMAINS:
        return Q()
    own = Q(user_profile__owner=grants.user)
    if domains:
        return domain_q(domains, "domain_arn") | own
    return own


def domain_total_q(grants: Grants) -> Q:
    """Which rollups make up the per-domain totals a person sees (month to date, forecast, chart, per-domain table).

    Where a role lets them read a domain's spend, its domain rollups; elsewhere, the rollups of their own profiles,
    which is all of a data scientist's spend. Without the second part a scientist's page said "No cost data yet"
    while listing their own profiles' spend.
    """
    domain_rows = Q(level="domain")
    domains = grants.domains_for(VIEW_COSTS)
    if domains is ALL_DOMAINS:
        return domain_rows
    own = Q(level="profile", user_profile__owner=grants.user)
    if not domains:
        return own
    readable = domain_q(domains, "domain_arn")
    return (domain_rows & readable) | (own & ~readable)


class CostRecord(models.Model):
    """One day of SageMaker spend of one (domain, member) pair, as Cost Explorer grouped it.

    ``grain`` says which grouping it came from: ``profile`` (domain-arn x user-profile-arn, which covers all spend,
    profile-less spend under an empty profile) or ``space`` (domain-arn x space-arn). Domain totals come from the
    profile grain only, so no cost is counted twice. An empty ``domain_arn`` is spend without the domain tag; an ARN
    the inventory does not know keeps its ARN with no foreign key.
    """

    class Grain(models.TextChoices):
        PROFILE = "profile", "By user profile"
        SPACE = "space", "By space"

    # A bill writes millions of these: every index and constraint is paid per row. A key (payer, day, grain, domain,
    # member, metric) is one record because its only writer, the ingestion, replaces a payer's window whole and sums
    # its rows per key in SQL (costs.ingest.WindowWriter); a unique index over those ARNs was as large as the table
    # and most of the cost of writing it, and nothing read through it. (payer, day) serves the window's replacement.
    # The inventory's ids are looked up in the ingestion's own transaction and Django sets them to null when a
    # domain, profile or space is deleted (their indexes serve that), so the database does not check them again row
    # by row at commit.
    payer = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="cost_records", db_index=False)
    day = models.DateField()
    grain = models.CharField(max_length=8, choices=Grain.choices)
    domain_arn = models.CharField(max_length=400, blank=True)
    member_arn = models.CharField(max_length=400, blank=True, help_text="The profile or space ARN; blank: none.")
    domain = models.ForeignKey(
        "domains.Domain", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    user_profile = models.ForeignKey(
        "profiles.UserProfile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    space = models.ForeignKey(
        "profiles.Space", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    metric = models.CharField(max_length=32, default="UnblendedCost")
    amount = models.DecimalField(max_digits=18, decimal_places=10)
    currency = models.CharField(max_length=8, default="USD")
    estimated = models.BooleanField(default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "domain_arn", "member_arn"]
        # (payer, day) serves a payer's window; (grain, day) the daily spend of profiles and spaces the dashboard
        # reads through :class:`Spend`, (domain_arn, day) one domain's.
        indexes = [
            models.Index(fields=["payer", "day"], name="costs_record_payer_day"),
            models.Index(fields=["grain", "day"]),
            models.Index(fields=["domain_arn", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.domain_arn or 'untagged'} {self.member_arn or '-'} {self.amount} {self.currency}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return spend_scope(grants, action)


class SpendRollup(models.Model):
    """Spend summed per day for a domain, and per month for a domain, a profile or a space.

    Rebuilt by the ingestion for the days it re-fetched (and the months they fall in), in the same transaction, by
    set-based statements. A profile's or a space's day is not kept here: it is one cost record already (the records
    are unique per day and member), so :class:`Spend` reads the records for it instead of a copy of each.
    """

    class Period(models.TextChoices):
        DAY = "day", "Day"
        MONTH = "month", "Month"

    class Level(models.TextChoices):
        DOMAIN = "domain", "Domain"
        PROFILE = "profile", "User profile"
        SPACE = "space", "Space"

    payer = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="spend_rollups")
    period = models.CharField(max_length=8, choices=Period.choices)
    start = models.DateField(help_text="The day, or the first day of the month.")
    level = models.CharField(max_length=8, choices=Level.choices)
    domain_arn = models.CharField(max_length=400, blank=True)
    key_arn = models.CharField(max_length=400, blank=True, help_text="Domain, profile or space ARN; blank: untagged.")
    domain = models.ForeignKey("domains.Domain", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user_profile = models.ForeignKey(
        "profiles.UserProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    space = models.ForeignKey("profiles.Space", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount = models.DecimalField(max_digits=18, decimal_places=10)
    estimated = models.BooleanField(default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["period", "start", "level", "domain_arn", "key_arn"]
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "period", "start", "level", "domain_arn", "key_arn"], name="one_rollup_per_key"
            )
        ]
        indexes = [models.Index(fields=["period", "level", "start"]), models.Index(fields=["domain_arn", "start"])]

    def __str__(self) -> str:
        return f"{self.period} {self.start} {self.level} {self.key_arn or 'untagged'} {self.amount}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return spend_scope(grants, action)


class Spend(models.Model):
    """What pages and the API read: every rollup, and each profile's or space's cost record as its day (a view).

    The view ``costs_spend`` is the rollups plus, for the levels the rollups keep per month only, the records
    themselves (``id`` negated, so ids stay unique). A filter on ``period`` or ``level`` reaches only the part that
    can hold it, so the domain figures never scan the records.

    On SQLite a migration that alters ``costs_costrecord`` or ``costs_spendrollup`` rebuilds the table, which the
    view stops: such a migration drops the view first and creates it again after (see migration 0002's SQL).
    """

    id = models.BigIntegerField(primary_key=True)
    payer = models.ForeignKey(AwsAccount, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    period = models.CharField(max_length=8, choices=SpendRollup.Period.choices)
    start = models.DateField()
    level = models.CharField(max_length=8, choices=SpendRollup.Level.choices)
    domain_arn = models.CharField(max_length=400, blank=True)
    key_arn = models.CharField(max_length=400, blank=True)
    domain = models.ForeignKey(
        "domains.Domain", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    user_profile = models.ForeignKey(
        "profiles.UserProfile", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    space = models.ForeignKey(
        "profiles.Space", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    amount = models.DecimalField(max_digits=18, decimal_places=10)
    estimated = models.BooleanField(default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "costs_spend"
        ordering = ["period", "start", "level", "domain_arn", "key_arn"]

    def __str__(self) -> str:
        return f"{self.period} {self.start} {self.level} {self.key_arn or 'untagged'} {self.amount}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return spend_scope(grants, action)


class SpendVersion(models.Model):
    """Which ingestion a payer's spend comes from: a new token each time an ingestion commits a window.

    The dashboard's cached figures are keyed by the tokens of every payer, so an ingestion makes new keys and the
    figures it replaced are never served again (whatever cache, however many web servers).
    """

    payer = models.OneToOneField(AwsAccount, on_delete=models.CASCADE, related_name="spend_version")
    token = models.UUIDField(default=uuid4)
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.payer.account_id}: {self.token} ({self.refreshed_at:%Y-%m-%d %H:%M})"


class CostTagStatus(models.Model):
    """Whether the SageMaker tags are activated as cost allocation tags in a payer account, as last checked.

    An inactive tag puts all spend under the untagged key; pages show a banner with the fix.
    """

    payer = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="cost_tag_statuses")
    tag_key = models.CharField(max_length=128)
    status = models.CharField(max_length=16, help_text="Active, Inactive, or Missing (never seen in the bill).")
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["payer", "tag_key"]
        constraints = [models.UniqueConstraint(fields=["payer", "tag_key"], name="one_status_per_payer_tag")]

    def __str__(self) -> str:
        return f"{self.payer.account_id} {self.tag_key}: {self.status}"


def validate_thresholds(value: object) -> None:
    from django.core.exceptions import ValidationError

    if not isinstance(value, list) or not value:
        raise ValidationError("Give at least one threshold, as percentages of the budget (e.g. 50, 80, 100).")
    if len(value) > MAX_THRESHOLDS:
        raise ValidationError(f"At most {MAX_THRESHOLDS} thresholds: each one can send two emails a month.")
    low, high = THRESHOLD_PERCENT.low, THRESHOLD_PERCENT.high
    if any(not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high for v in value):
        raise ValidationError(f"Each threshold is a whole percentage from {low} to {high}.")
    if len(set(value)) != len(value):
        raise ValidationError("A threshold is listed twice.")


class Budget(models.Model):
    """A monthly spend limit for one domain, with alert thresholds (percent) on actual and forecast spend."""

    domain = models.OneToOneField("domains.Domain", on_delete=models.CASCADE, related_name="budget")
    monthly_amount = models.DecimalField(max_digits=12, decimal_places=2)
    thresholds = models.JSONField(default=list, validators=[validate_thresholds])
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain__name"]
        constraints = [models.CheckConstraint(condition=Q(monthly_amount__gt=0), name="budget_amount_positive")]

    def __str__(self) -> str:
        return f"{self.domain.name}: ${self.monthly_amount}/month"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        domains = grants.domains_for(action)
        if domains is not ALL_DOMAINS and not domains:
            return None
        return domain_q(domains, "domain__arn")


class BudgetAlert(models.Model):
    """A threshold a budget crossed in a month, on actual or forecast spend: at most one per kind and month."""

    class Basis(models.TextChoices):
        ACTUAL = "actual", "Actual spend"
        FORECAST = "forecast", "Forecast spend"

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    month = models.DateField()
    threshold = models.PositiveSmallIntegerField()
    basis = models.CharField(max_length=8, choices=Basis.choices)
    spend = models.DecimalField(max_digits=12, decimal_places=2)
    limit = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-month", "budget__domain__name", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "month", "threshold", "basis"], name="one_alert_per_threshold")
        ]

    def __str__(self) -> str:
        return f"{self.budget.domain.name} {self.month:%Y-%m} {self.basis} {self.threshold}%"
