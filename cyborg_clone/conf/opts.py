"""Entry point for oslo-config-generator."""

from cyborg_clone import conf


def list_opts():
    return conf.list_opts()
