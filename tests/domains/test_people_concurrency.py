"""Two syncs that meet the same owner at once make one person of them, not two."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from domains import people
from domains.models import Person, PersonMatch


def owner(index: people.Index, email: str) -> Person | None:
    return people.person_for(
        index, subject=PersonMatch.Subject.OWNER_TAG, key=f"arn:profile/{email}", label=email, email=email
    )


@pytest.mark.django_db
def test_a_person_created_after_the_index_was_read_is_found_not_made_again() -> None:
    stale = people.Index()  # read before another sync stored the owner
    made = Person.objects.create(display_name="Maria Garcia", email="Maria.Garcia@example.com")
    assert owner(stale, "maria.garcia@example.com") == made
    assert Person.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_transactions_creating_the_same_owner_make_one_person() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the wait for the other creator is PostgreSQL's advisory lock; SQLite has one writer anyway")
    first_created = threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = owner(people.Index(), "sam@example.com")
                first_created.set()
                time.sleep(1.0)  # the second transaction reaches the owner while this one has not committed
        finally:
            connection.close()

    def second() -> None:
        try:
            first_created.wait(10)
            with transaction.atomic():
                index = people.Index()  # the first's person is not committed: the index cannot see it
                assert index.find(email="sam@example.com")[0] is None
                started = time.monotonic()
                results["second"] = owner(index, "sam@example.com")
                results["waited"] = time.monotonic() - started
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Person.objects.filter(email="sam@example.com").count() == 1
    assert results["second"].pk == results["first"].pk
    assert results["waited"] > 0.5  # it waited for the first to commit, then read its person
