"""gunicorn entry point: ``gunicorn -k gevent api.wsgi:app``."""
from api.app import create_app
from core import config
from core.logs import configure_logging

configure_logging(config.settings().log_level, service="api")
app = create_app()
