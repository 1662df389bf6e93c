"""Run the Alembic migrations shipped with the package."""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from cyborg_clone.db import api as db_api

# A symlink to the top-level migrations/ in a checkout; a real directory in
# an installed wheel.
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              'migrations')


def _config(conf):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', MIGRATIONS_DIR)
    # '%' would be read as interpolation by ConfigParser.
    cfg.set_main_option('sqlalchemy.url',
                        db_api.database_url(conf).replace('%', '%%'))
    return cfg


def upgrade(conf, revision='head'):
    db_api.configure(conf)
    cfg = _config(conf)
    with db_api.writer_engine().begin() as connection:
        cfg.attributes['connection'] = connection
        command.upgrade(cfg, revision)


def downgrade(conf, revision):
    db_api.configure(conf)
    cfg = _config(conf)
    with db_api.writer_engine().begin() as connection:
        cfg.attributes['connection'] = connection
        command.downgrade(cfg, revision)


def current_revision(conf):
    """The revision the database is at, or None for an empty database."""
    db_api.configure(conf)
    with db_api.writer_engine().connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()


def head_revision(conf):
    return alembic_script.ScriptDirectory.from_config(
        _config(conf)).get_current_head()
