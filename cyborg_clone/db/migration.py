"""Run the Alembic migrations shipped with the package.

Each migration script says what its ``downgrade()`` destroys in a module
attribute, ``downgrade_loses``: a sentence naming the tables or columns it
drops with their rows, or None when it drops nothing that holds data.
``downgrade()`` here refuses to run a losing step unless forced, and checks
that before changing anything.
"""

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


class DowngradeLosesData(Exception):
    """A downgrade would run steps that drop data, and was not forced.

    ``losses`` lists (revision, what its downgrade loses), newest first.
    """

    def __init__(self, current, target, losses):
        self.losses = losses
        steps = '; '.join('%s drops %s' % (revision, what)
                          for revision, what in losses)
        super().__init__(
            'downgrading from %s to %s would lose data: %s. Nothing was '
            'changed; back the database up and give --force to downgrade '
            'anyway.' % (current, target, steps))


def _config(conf):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', MIGRATIONS_DIR)
    # '%' would be read as interpolation by ConfigParser.
    cfg.set_main_option('sqlalchemy.url',
                        db_api.database_url(conf).replace('%', '%%'))
    return cfg


def scripts():
    """Every migration script, oldest first."""
    directory = alembic_script.ScriptDirectory(MIGRATIONS_DIR)
    return list(reversed(list(directory.walk_revisions())))


def downgrade_loses(script):
    """What the downgrade of ``script`` (an alembic Script) loses, or None.
    A script that does not say is not trusted to lose nothing."""
    try:
        return script.module.downgrade_loses
    except AttributeError:
        return ('whatever its downgrade() drops (its script does not set '
                'downgrade_loses)')


def upgrade(conf, revision='head'):
    db_api.configure(conf)
    cfg = _config(conf)
    with db_api.writer_engine().begin() as connection:
        cfg.attributes['connection'] = connection
        command.upgrade(cfg, revision)


def downgrade_steps(conf, revision):
    """The scripts whose ``downgrade()`` would run to go from the current
    revision down to ``revision`` (an id, ``base`` or relative like
    ``-1``), newest first.

    :raises alembic.script.revision.RevisionError: for a revision that
        does not exist or is not below the current one.
    """
    current = current_revision(conf)
    if current is None:
        return []
    directory = alembic_script.ScriptDirectory.from_config(_config(conf))
    return list(directory.iterate_revisions(current, revision))


def downgrade(conf, revision, force=False):
    """Downgrade the schema to ``revision``.

    :raises DowngradeLosesData: when a step would drop data and ``force``
        is false; the database is left as it was.
    """
    db_api.configure(conf)
    if not force:
        losses = [(script.revision, downgrade_loses(script))
                  for script in downgrade_steps(conf, revision)
                  if downgrade_loses(script)]
        if losses:
            raise DowngradeLosesData(current_revision(conf), revision,
                                     losses)
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
