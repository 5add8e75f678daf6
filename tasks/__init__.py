"""Celery app, routing and task definitions. Tasks receive job ids, never text or ORM objects."""
