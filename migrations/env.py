"""Alembic environment: runs on the connection handed over by
cyborg_clone.db.migration, or on sqlalchemy.url when run by alembic's CLI."""

from alembic import context
import sqlalchemy as sa

from cyborg_clone.db import models

config = context.config
target_metadata = models.Base.metadata


def _run(connection):
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table.
        render_as_batch=connection.dialect.name == 'sqlite',
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get('connection')
if connection is not None:
    _run(connection)
else:
    engine = sa.create_engine(config.get_main_option('sqlalchemy.url'))
    with engine.connect() as conn:
        _run(conn)
