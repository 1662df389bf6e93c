"""cyborg-clone-dbsync: upgrade, downgrade or show the database schema.

    cyborg-clone-dbsync [--config-file F] upgrade [--revision REV]
    cyborg-clone-dbsync [--config-file F] downgrade --revision REV [--force]
    cyborg-clone-dbsync [--config-file F] version

A downgrade that would run a step dropping data (each migration says what
its downgrade loses) is refused, naming those steps, unless ``--force`` is
given; nothing is changed then and the exit status is 1.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from cyborg_clone.common import startup
from cyborg_clone.db import migration

LOG = logging.getLogger(__name__)

PROG = 'cyborg-clone-dbsync'


def _upgrade(conf):
    migration.upgrade(conf, conf.command.revision)
    print('Database upgraded to %s.' % migration.current_revision(conf))


def _downgrade(conf):
    migration.downgrade(conf, conf.command.revision,
                        force=conf.command.force)
    print('Database downgraded to %s.'
          % (migration.current_revision(conf) or 'base (empty)'))


def _version(conf):
    print('current: %s' % (migration.current_revision(conf) or 'none'))
    print('head: %s' % migration.head_revision(conf))


def _add_parsers(subparsers):
    upgrade = subparsers.add_parser(
        'upgrade', help='Upgrade the schema (to the newest by default).')
    upgrade.add_argument('--revision', default='head',
                         help='Revision to upgrade to (default: head).')
    upgrade.set_defaults(action=_upgrade)

    downgrade = subparsers.add_parser(
        'downgrade', help='Downgrade the schema; "base" empties it.')
    downgrade.add_argument('--revision', required=True,
                           help='Revision to downgrade to, e.g. base.')
    downgrade.add_argument('--force', action='store_true',
                           help='Downgrade even through steps that drop '
                                'tables or columns with their data.')
    downgrade.set_defaults(action=_downgrade)

    version = subparsers.add_parser(
        'version', help='Print the current and the newest revision.')
    version.set_defaults(action=_version)


_COMMAND = cfg.SubCommandOpt('command', title='Commands',
                             handler=_add_parsers)


def main(argv=None):
    # Logs to stderr, so that stdout holds only what the command reports.
    conf = startup.prepare(argv, PROG, cli_opts=[_COMMAND],
                           defaults=[(None, 'use_stderr', True)])
    try:
        conf.command.action(conf)
    except Exception as error:
        LOG.debug('%s failed', conf.command.name, exc_info=True)
        print('%s %s failed: %s' % (PROG, conf.command.name, error),
              file=sys.stderr)
        return 1
    return 0
