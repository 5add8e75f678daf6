"""Alembic environment: the URL comes from mindq's settings (or the -x url=... argument)."""
from alembic import context

from jobstore.db import make_engine
from jobstore.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or context.get_x_argument(as_dictionary=True).get("url")

if not url:
    raise SystemExit("no database URL: set sqlalchemy.url or pass -x url=...")
engine = make_engine(url, pool_size=1)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
