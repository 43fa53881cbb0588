"""Signals through which the inventory sync hands work to the app that owns a domain's members.

The domains layer never imports the profiles layer; profiles connects receivers to these.
"""

from django.dispatch import Signal

# Sent when a domain's members (profiles, spaces, apps) should be synced in this process, now.
# kwargs: run_id (int), domain_pk (int)
member_sync_requested = Signal()

# Sent by the inventory writers after they stored what AWS said about resources (a sync, a domain read again, a
# profile or space created or changed by the portal, something deleted): kwargs domain_pk (int), arns (list[str]).
# Receivers re-evaluate what depends on those resources (governance listens); they must not write the inventory.
resources_changed = Signal()

# Sent after a completed listing showed that domains are gone. kwargs: domain_pks (list[int]), at (datetime)
domains_removed = Signal()
