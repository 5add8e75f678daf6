"""gunicorn entry point: ``gunicorn -k gevent api.wsgi:app``."""
from api.app import create_app
from mindq import runtime
from mindq.logs import configure_logging

configure_logging(runtime.settings().log_level, service="api")
app = create_app()
