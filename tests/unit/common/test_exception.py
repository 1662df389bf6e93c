"""Exceptions keep their status and a clean message across RPC."""

import sys

# The wire format of RPC replies on real transports (rabbit): the in-process
# fake transport hands exceptions over without serializing them.
from oslo_messaging._drivers import common as rpc_common

from cyborg_clone.common import exception


def over_rpc(error):
    try:
        raise error
    except exception.CyborgCloneException:
        data = rpc_common.serialize_remote_exception(sys.exc_info())
    return rpc_common.deserialize_remote_exception(
        data, [exception.__name__])


def test_message_names_what_is_wrong():
    error = exception.DeployableNotFound(ident='d1')
    assert error.faultstring == 'Deployable d1 could not be found.'
    assert error.code == 404


def test_rebuilt_exception_keeps_its_class_and_code():
    error = over_rpc(exception.Conflict(reason='handle in use'))
    assert isinstance(error, exception.Conflict)
    assert error.code == 409


def test_rebuilt_exception_does_not_show_the_remote_traceback():
    error = over_rpc(exception.Conflict(reason='handle in use'))
    assert 'Traceback' in str(error)
    assert error.faultstring == 'Conflict: handle in use'
