"""Exceptions that carry their HTTP status.

The API turns any of these into the ``{"error_message": ...}`` body with
``code`` as the status; ``message`` is a template filled from keyword
arguments so every raise names the thing that is wrong.
"""


class CyborgCloneException(Exception):
    message = 'An unknown error occurred.'
    code = 500

    def __init__(self, message=None, **kwargs):
        if message is None:
            message = self.message % kwargs if kwargs else self.message
        self.kwargs = kwargs
        super().__init__(message)

    @property
    def faultstring(self):
        # Not str(self): an exception rebuilt from an RPC reply prints the
        # remote traceback as well, which clients must never see.
        return self.args[0]


class Invalid(CyborgCloneException):
    message = 'Invalid request: %(reason)s'
    code = 400


class InvalidUUID(Invalid):
    message = '%(value)s is not a valid UUID.'


class PatchError(Invalid):
    message = 'Invalid patch: %(reason)s'


class Forbidden(CyborgCloneException):
    message = 'Policy does not allow %(action)s to be performed.'
    code = 403


class NotFound(CyborgCloneException):
    message = 'Resource could not be found.'
    code = 404


class NotAcceptable(CyborgCloneException):
    message = 'Request not acceptable: %(reason)s'
    code = 406


class Conflict(CyborgCloneException):
    message = 'Conflict: %(reason)s'
    code = 409


class Locked(CyborgCloneException):
    message = '%(reason)s'
    code = 423


class DeviceProfileNotFound(NotFound):
    message = 'Device profile %(ident)s could not be found.'


class ARQNotFound(NotFound):
    message = 'Accelerator request %(uuid)s could not be found.'


class DeviceNotFound(NotFound):
    message = 'Device %(uuid)s could not be found.'


class DeployableNotFound(NotFound):
    message = 'Deployable %(ident)s could not be found.'


class AttributeNotFound(NotFound):
    message = 'Attribute %(uuid)s could not be found.'


class ARQBadState(Conflict):
    message = ('Accelerator request %(uuid)s is in state %(state)s; '
               '%(action)s needs one of: %(expected)s.')


class ServiceUnavailable(CyborgCloneException):
    message = 'Service unavailable: %(reason)s'
    code = 503


class DriverError(CyborgCloneException):
    message = 'Driver %(driver)s failed: %(reason)s'


# The FPGA image API answers {"error": {"code", "message"}}; ``error_code``
# is that stable code, documented in api-ref. Other errors get the code of
# their HTTP status (api/fpga_image_errors.py).

class FpgaImageNotFound(NotFound):
    message = 'FPGA image %(image_id)s could not be found.'
    error_code = 'FPGA.0404'


class FpgaImageBuildRunning(Conflict):
    message = ('Project %(project_id)s is already building FPGA image '
               '%(image_id)s; a project builds one image at a time.')
    error_code = 'FPGA.1001'


class FpgaImageProtected(Conflict):
    message = ('FPGA image %(image_id)s is associated with VM images and '
               'cannot be deleted; disassociate it first.')
    error_code = 'FPGA.1002'


class FpgaImageBusy(Conflict):
    message = ('FPGA image %(image_id)s is %(status)s; %(action)s needs '
               '%(need)s.')
    error_code = 'FPGA.1003'


class FpgaImageAssociated(Conflict):
    message = 'FPGA image %(image_id)s is already associated with %(vm)s.'
    error_code = 'FPGA.1004'


class FpgaImageAssociationLimit(Conflict):
    message = ('VM image %(vm)s already has %(limit)d FPGA images, the '
               'most it may have.')
    error_code = 'FPGA.1005'


class FpgaImageNotAssociated(NotFound):
    message = 'FPGA image %(image_id)s is not associated with %(vm)s.'
    error_code = 'FPGA.1006'


# Object store (tenants' buckets) and image store (built FPGA images):
# clients/object_store.py and clients/image_store.py. "bucket:key" is the
# notation of the API's dcp_location.

class ObjectNotFound(NotFound):
    message = 'Object %(bucket)s:%(key)s could not be found: %(reason)s.'


class ObjectTooLarge(Invalid):
    message = ('Object %(bucket)s:%(key)s is larger than the %(max_bytes)d '
               'bytes allowed.')


class ObjectStoreError(CyborgCloneException):
    message = ('The object store failed to %(action)s %(bucket)s:%(key)s: '
               '%(reason)s')
    code = 503


class ImageNotFound(NotFound):
    message = 'Image %(image_id)s is not in the image store.'


class ImageCorrupt(CyborgCloneException):
    message = 'Image %(image_id)s in the image store is corrupt: %(reason)s'
