"""Change sets: reviewed, four-eyes-approved changes to Studio resources (domains, profiles, spaces, apps) that a
Celery task applies to AWS, resumably and idempotently."""
