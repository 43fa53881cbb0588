"""What the change-set app tells the apps above it (governance listens).

``change_set_applied``: sent once the transaction that marks a change set applied commits, after its resources were
read again from AWS and stored in the inventory. kwargs: ``change_set`` (:class:`changesets.models.ChangeSet`),
``finding_ids`` (the list given at proposal), ``resource_arns`` (the ARNs read again).
"""

from django.dispatch import Signal

change_set_applied = Signal()
