"""Persistence of jobs, tenants, results and the audit log (PostgreSQL), and job events (Redis).

Services here take plain dependencies (an engine, a Redis client, a cipher) as arguments and know
nothing of Flask or Celery, so the API and the workers share them.
"""
