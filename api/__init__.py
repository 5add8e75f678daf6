"""The HTTP API (Flask): validate, authenticate, call a jobstore service, return JSON."""
from api.app import create_app

__all__ = ["create_app"]
