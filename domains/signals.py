"""Signals through which the inventory sync hands work to the app that owns a domain's members.

The domains layer never imports the profiles layer; profiles connects receivers to these.
"""

from django.dispatch import Signal

# Sent when a domain's members (profiles, spaces, apps) should be synced in this process, now.
# kwargs: run_id (int), domain_pk (int)
member_sync_requested = Signal()

# Sent after a completed listing showed that domains are gone. kwargs: domain_pks (list[int]), at (datetime)
domains_removed = Signal()
