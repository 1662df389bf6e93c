"""Start-up every process shares: options, arguments, logging."""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from cyborg_clone import conf as cc_conf

LOG = logging.getLogger(__name__)

PROJECT = 'cyborg_clone'


def load_config(argv=None, prog=None, cli_opts=(), defaults=(),
                default_config_files=None):
    """A parsed ``ConfigOpts`` with every option of the service.

    :param argv: arguments without the program name (default: sys.argv).
    :param prog: the command's name, for --help and config file lookup.
    :param cli_opts: extra command-line options of this command.
    :param defaults: ``(group, name, value)`` triples that replace option
        defaults for this command; config files still win.
    :param default_config_files: files read without --config-file (default:
        oslo.config's search for cyborg_clone.conf in ~ and /etc).
    :raises cfg.Error: for bad arguments or config files.
    """
    conf = cfg.ConfigOpts()
    cc_conf.register_opts(conf)
    logging.register_options(conf)
    conf.register_cli_opts(cli_opts)
    for group, name, value in defaults:
        conf.set_default(name, value, group=group)
    conf(sys.argv[1:] if argv is None else argv, project=PROJECT, prog=prog,
         default_config_files=default_config_files)
    return conf


def load_global_config(argv=None, prog=None):
    """Parse the same arguments into the process-wide ``cfg.CONF``, for
    libraries that only read it (oslo.privsep's [privsep] options)."""
    cfg.CONF(sys.argv[1:] if argv is None else argv, project=PROJECT,
             prog=prog)


def setup_logging(conf, prog):
    """Configure oslo.log and log the options (secrets masked)."""
    logging.setup(conf, PROJECT)
    LOG.info('%s starting', prog)
    conf.log_opt_values(LOG, logging.DEBUG)


def prepare(argv=None, prog=None, **kwargs):
    """``load_config`` then ``setup_logging``: the usual start.

    A missing config file or a bad value ends the process with a one-line
    message (logging the options reads, so checks, every value).
    """
    try:
        conf = load_config(argv, prog, **kwargs)
        setup_logging(conf, prog)
    except cfg.Error as error:
        sys.exit('%s: %s' % (prog, error))
    return conf

