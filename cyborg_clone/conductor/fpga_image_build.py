"""The FPGA image factory's conductor side: builds, registrations,
deletions and the recovery of builds whose conductor died.

A build moves its image from initialling to scheduling when a conductor
takes it and to creating when the work starts, then to active or error.
Every failure ends in error with ``message`` = ``"<REASON_CODE>: <text>"``,
and the build log is uploaded as ``{id}_log.tar`` next to the DCP in both
cases. All files live in a per-build work directory that is removed at
the end; the tarball itself is read by dcp_archive, which never writes
outside it.
"""

import datetime
import json
import os
import shutil
import tempfile

from oslo_log import log as logging

from cyborg_clone.clients import image_store as image_store_client
from cyborg_clone.clients import object_store as object_store_client
from cyborg_clone.common import exception
from cyborg_clone.conductor import build_log
from cyborg_clone.conductor import dcp_archive
from cyborg_clone.conductor import fpga_toolchain
from cyborg_clone.objects import base
from cyborg_clone.objects import fpga_image

LOG = logging.getLogger(__name__)
FpgaImage = fpga_image.FpgaImage

# Manifest keys copied into the stored image's metadata.
_IMAGE_METADATA_KEYS = ('fpga_chip', 'fpga_board', 'fpga_vendor',
                        'shell_id', 'pci_vendor_id', 'pci_device_id',
                        'pci_subsystem_id', 'pci_subsystem_vendor_id',
                        'hdk_version', 'tool_version', 'bitstream_format')


class Factory:
    """Builds and saves images with one object store and one image store
    (from the configuration unless given, as tests do)."""

    def __init__(self, conf, object_store=None, image_store=None):
        self.conf = conf
        self.objects = object_store or object_store_client.get_object_store(
            conf)
        self.images = image_store or image_store_client.get_image_store(conf)

    def build(self, image_id):
        """Build image ``image_id`` from its DCP tarball."""
        if not FpgaImage.transition(image_id, 'schedule',
                                    work_started_at=base.utcnow()):
            LOG.info('FPGA image %s is no longer waiting for a build; '
                     'skipped.', image_id)
            return
        image = FpgaImage.get(image_id)
        log = build_log.BuildLog()
        log.info('Build of FPGA image %s (%s) from %s:%s.', image_id,
                 image.name, image.bucket, image.object_key)
        with self._work_dir(image_id) as work_dir:
            try:
                if not FpgaImage.transition(image_id, 'create'):
                    raise _Stopped()
                metadata, stored = self._build(image, work_dir, log)
            except _Stopped:
                log.error('The build was stopped from outside.')
                self._upload_log(image, log, work_dir)
                return
            except Exception as error:
                failure = self._reason(image_id, error)
                log.error('%s', failure)
            else:
                failure = None
                log.info('FPGA image %s is active (%d bytes, sha256 %s).',
                         image_id, stored['size'], stored['sha256'])
            self._upload_log(image, log, work_dir)
        # Published last: whoever sees the final status finds the log in
        # the bucket and the work directory gone.
        if failure is not None:
            self._fail(image_id, failure)
            return
        FpgaImage.transition(
            image_id, 'activate', message=None,
            metadata_json=json.dumps(metadata), size_bytes=stored['size'],
            sha256=stored['sha256'])

    def _build(self, image, work_dir, log):
        limits = dcp_archive.Limits.from_conf(self.conf)
        tarball = os.path.join(work_dir, 'dcp.tar')
        self._download(image, tarball, limits.max_tarball_bytes, log)
        checked = dcp_archive.check_and_extract(
            tarball, os.path.join(work_dir, 'design'), limits)
        log.info('DCP checked: chip %s, shell %s, dcp sha256 %s.',
                 checked.manifest.get('fpga_chip'),
                 checked.manifest.get('shell_id'), checked.dcp_sha256)
        output = os.path.join(work_dir, 'image.bin')
        fpga_toolchain.build_image(self.conf, checked, output, log)
        metadata = {key: checked.manifest[key] for key in
                    _IMAGE_METADATA_KEYS if key in checked.manifest}
        metadata['dcp_sha256'] = checked.dcp_sha256
        stored = self.images.put(image.image_id, output, metadata)
        return metadata, stored

    def _download(self, image, path, max_bytes, log):
        try:
            size = self.objects.download(image.bucket, image.object_key,
                                         path, max_bytes=max_bytes)
        except exception.ObjectNotFound as error:
            raise dcp_archive.DCPError('DCP_NOT_FOUND', str(error)) from None
        except exception.ObjectTooLarge as error:
            raise dcp_archive.DCPError('INPUT_SIZE_ILLEGAL',
                                       str(error)) from None
        log.info('Fetched %s:%s (%d bytes).', image.bucket,
                 image.object_key, size)

    def save(self, image_id):
        """Copy a registered image file from its bucket into the store."""
        image = FpgaImage.get(image_id)
        if image.status != fpga_image.SAVING:
            return
        failure = None
        with self._work_dir(image_id) as work_dir:
            path = os.path.join(work_dir, 'image.bin')
            try:
                self.objects.download(image.bucket, image.object_key, path)
                stored = self.images.put(image_id, path, image.metadata)
            except Exception as error:
                failure = self._reason(image_id, error)
        if failure is not None:
            self._fail(image_id, failure)
            return
        FpgaImage.transition(image_id, 'activate', size_bytes=stored['size'],
                             sha256=stored['sha256'])
        LOG.info('Registered FPGA image %s is active.', image_id)

    def delete(self, image_id):
        """Remove a deleting image from the store, then its record."""
        self.images.delete(image_id)
        FpgaImage.remove(image_id)
        LOG.info('Deleted FPGA image %s.', image_id)

    @staticmethod
    def _reason(image_id, error):
        """The image's ``message`` for ``error``: "<REASON>: <text>"."""
        if isinstance(error, dcp_archive.DCPError):
            return str(error)
        if isinstance(error, exception.ObjectNotFound):
            return 'OBJECT_NOT_FOUND: %s' % error
        if isinstance(error, exception.ObjectStoreError):
            return 'OBJECT_STORE_UNAVAILABLE: %s' % error
        if isinstance(error, exception.Invalid):
            # The API validates locations; a store refusing one anyway
            # (e.g. a key through a symlink) is the tenant's to fix.
            return 'INVALID_LOCATION: %s' % error
        LOG.exception('FPGA image %s failed unexpectedly.', image_id)
        return 'INTERNAL_ERROR: the build failed unexpectedly.'

    @staticmethod
    def _fail(image_id, message):
        FpgaImage.transition(image_id, 'fail', message=message[:255])
        LOG.warning('FPGA image %s failed: %s', image_id, message)

    def _upload_log(self, image, log, work_dir):
        path = os.path.join(work_dir, '%s_log.tar' % image.image_id)
        try:
            log.write_tar(path, image.image_id)
            self.objects.upload(image.bucket, image.log_key, path)
        except Exception as error:
            # The image's own status already says how the build ended.
            LOG.warning('Could not upload the build log of FPGA image %s '
                        'to %s:%s: %s', image.image_id, image.bucket,
                        image.log_key, error)

    def _work_dir(self, image_id):
        os.makedirs(self.conf.fpga_image.work_dir, exist_ok=True)
        return _TemporaryDirectory(tempfile.mkdtemp(
            prefix=image_id + '-', dir=self.conf.fpga_image.work_dir))


class _Stopped(Exception):
    """The image left its build states (deleted or failed by recovery)."""


class _TemporaryDirectory:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self.path

    def __exit__(self, *exc_info):
        shutil.rmtree(self.path, ignore_errors=True)


def recover(conf):
    """Fail builds and registrations that did not finish within
    [fpga_image]build_deadline (their conductor died or the cast was
    lost), so no image stays unfinished forever."""
    cutoff = base.utcnow() - datetime.timedelta(
        seconds=conf.fpga_image.build_deadline)
    failed = []
    for image in FpgaImage.unfinished_since(cutoff):
        if FpgaImage.transition(
                image.image_id, 'fail',
                message='BUILD_INTERRUPTED: not finished within %d seconds; '
                        'create the image again.'
                        % conf.fpga_image.build_deadline):
            LOG.warning('FPGA image %s was %s past the deadline; failed.',
                        image.image_id, image.status)
            failed.append(image.image_id)
    return failed
