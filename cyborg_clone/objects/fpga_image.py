"""FPGA images of a project, their status rules and VM-image associations.

Statuses, and the one table of which action moves an image from where::

    initialling --schedule--> scheduling --create--> creating --> active
    saving (registered images) ----------------------------------> active
    any unfinished --fail--> error;   active | error --delete--> deleting

Each move is a conditional UPDATE, so a conductor that lost a race (the
image was deleted, or failed by the recovery sweep) simply stops. A build
holds its project's row in ``fpga_image_builds`` from creation until it
ends, in the same transactions as the status changes.
"""

import dataclasses
import datetime
import json
import uuid

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models

INITIALLING = 'initialling'
SCHEDULING = 'scheduling'
CREATING = 'creating'
ACTIVE = 'active'
ERROR = 'error'
SAVING = 'saving'
DELETING = 'deleting'

UNFINISHED = (INITIALLING, SCHEDULING, CREATING, SAVING)
MAX_ASSOCIATIONS = 10

TRANSITIONS = {
    'schedule': ((INITIALLING,), SCHEDULING),
    'create': ((SCHEDULING,), CREATING),
    'activate': ((CREATING, SAVING), ACTIVE),
    'fail': (UNFINISHED, ERROR),
    'delete': ((ACTIVE, ERROR), DELETING),
}


@dataclasses.dataclass(frozen=True)
class FpgaImage:
    id: int
    image_id: str
    project_id: str
    name: str
    description: str
    status: str
    message: str | None
    metadata: dict
    bucket: str
    object_key: str
    log_directory: str
    size_bytes: int | None
    sha256: str | None
    work_started_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime | None
    protected: bool

    @property
    def log_key(self):
        """Object key of the build log in the bucket."""
        prefix = self.log_directory + '/' if self.log_directory else ''
        return '%s%s_log.tar' % (prefix, self.image_id)

    @classmethod
    def _select(cls):
        images = models.FpgaImage
        # Correlated to the image only: association queries join the
        # same table in the outer statement.
        associated = sa.exists().where(
            models.FpgaImageAssociation.fpga_image_id == images.id
        ).correlate(images)
        return sa.select(images, associated.label('protected'))

    @classmethod
    def _from_result(cls, result):
        row = result.FpgaImage
        values = {field.name: getattr(row, field.name, None)
                  for field in dataclasses.fields(cls)}
        values['metadata'] = json.loads(row.metadata_json)
        values['protected'] = bool(result.protected)
        return cls(**values)

    # --- creation ------------------------------------------------------

    @classmethod
    def create_build(cls, project_id, name, description, bucket,
                     object_key, log_directory):
        """Record a DCP build (initialling) and take the project's build
        slot; FpgaImageBuildRunning when the project already builds."""
        row = models.FpgaImage(
            image_id=uuid.uuid4().hex, project_id=project_id, name=name,
            description=description, status=INITIALLING, bucket=bucket,
            object_key=object_key, log_directory=log_directory,
            metadata_json='{}', work_started_at=models.utcnow())
        try:
            with db_api.writer() as session:
                session.add(row)
                session.flush()
                session.add(models.FpgaImageBuild(project_id=project_id,
                                                  fpga_image_id=row.id))
        except sa_exc.IntegrityError:
            raise exception.FpgaImageBuildRunning(
                project_id=project_id,
                image_id=cls._running_build(project_id)) from None
        return cls.get(row.image_id)

    @staticmethod
    def _running_build(project_id):
        with db_api.reader() as session:
            return session.execute(
                sa.select(models.FpgaImage.image_id)
                .join(models.FpgaImageBuild,
                      models.FpgaImageBuild.fpga_image_id ==
                      models.FpgaImage.id)
                .where(models.FpgaImageBuild.project_id == project_id)
            ).scalar_one_or_none() or 'another image'

    @classmethod
    def register(cls, project_id, name, description, metadata, bucket,
                 object_key):
        """Record an already built image to copy in (saving)."""
        row = models.FpgaImage(
            image_id=uuid.uuid4().hex, project_id=project_id, name=name,
            description=description, status=SAVING, bucket=bucket,
            object_key=object_key, log_directory='',
            metadata_json=json.dumps(metadata),
            work_started_at=models.utcnow())
        with db_api.writer() as session:
            session.add(row)
        return cls.get(row.image_id)

    # --- reading -------------------------------------------------------

    @classmethod
    def get(cls, image_id, project_id=None):
        """The image; FpgaImageNotFound when missing or, with
        ``project_id``, owned by another project."""
        statement = cls._select().where(
            models.FpgaImage.image_id == image_id)
        if project_id is not None:
            statement = statement.where(
                models.FpgaImage.project_id == project_id)
        with db_api.reader() as session:
            result = session.execute(statement).one_or_none()
        if result is None:
            raise exception.FpgaImageNotFound(image_id=image_id)
        return cls._from_result(result)

    @classmethod
    def list(cls, project_id, offset=0, limit=None):
        """(count of the project's images, one page of them, newest
        first)."""
        images = models.FpgaImage
        with db_api.reader() as session:
            count = session.execute(
                sa.select(sa.func.count()).select_from(images)
                .where(images.project_id == project_id)).scalar_one()
            statement = (cls._select()
                         .where(images.project_id == project_id)
                         .order_by(images.created_at.desc(),
                                   images.id.desc())
                         .offset(offset).limit(limit))
            return count, [cls._from_result(r)
                           for r in session.execute(statement)]

    @classmethod
    def unfinished_since(cls, cutoff):
        """Images still building or saving whose step began before
        ``cutoff`` (their conductor may have died)."""
        images = models.FpgaImage
        with db_api.reader() as session:
            return [cls._from_result(r) for r in session.execute(
                cls._select().where(images.status.in_(UNFINISHED),
                                    images.work_started_at < cutoff))]

    # --- status --------------------------------------------------------

    @classmethod
    def transition(cls, image_id, action, **values):
        """Apply ``action``; False (and no change) when the image is not
        in a state it starts from. Ending a build frees its project."""
        sources, target = TRANSITIONS[action]
        images = models.FpgaImage
        with db_api.writer() as session:
            moved = session.execute(
                sa.update(images)
                .where(images.image_id == image_id,
                       images.status.in_(sources))
                .values(status=target, **values)
                .execution_options(synchronize_session=False)).rowcount
            if moved and target in (ACTIVE, ERROR):
                session.execute(sa.delete(models.FpgaImageBuild).where(
                    models.FpgaImageBuild.fpga_image_id.in_(
                        sa.select(images.id).where(
                            images.image_id == image_id)
                        .scalar_subquery())))
        return bool(moved)

    @classmethod
    def start_delete(cls, image_id, project_id):
        """Mark the image deleting; it must be finished and unprotected."""
        image = cls.get(image_id, project_id)
        if image.protected:
            raise exception.FpgaImageProtected(image_id=image_id)
        if not cls.transition(image_id, 'delete'):
            raise exception.FpgaImageBusy(
                image_id=image_id, status=image.status, action='delete',
                need='active or error')
        return image

    @classmethod
    def remove(cls, image_id):
        """Drop the row of an image marked deleting."""
        images = models.FpgaImage
        with db_api.writer() as session:
            session.execute(sa.delete(images).where(
                images.image_id == image_id, images.status == DELETING))

    # --- associations with VM images -----------------------------------

    @classmethod
    def associate(cls, image_id, project_id, vm_image_id):
        """Associate an active image with a VM image (at most
        MAX_ASSOCIATIONS per VM image, each pair once)."""
        image = cls.get(image_id, project_id)
        if image.status != ACTIVE:
            raise exception.FpgaImageBusy(
                image_id=image_id, status=image.status, action='associate',
                need='active')
        links = models.FpgaImageAssociation
        try:
            with db_api.writer() as session:
                rows = session.execute(
                    sa.select(links.slot, links.fpga_image_id)
                    .where(links.image_id == vm_image_id)).all()
                if any(r.fpga_image_id == image.id for r in rows):
                    raise exception.FpgaImageAssociated(image_id=image_id,
                                                        vm=vm_image_id)
                free = sorted(set(range(MAX_ASSOCIATIONS)) -
                              {r.slot for r in rows})
                if not free:
                    raise exception.FpgaImageAssociationLimit(
                        vm=vm_image_id, limit=MAX_ASSOCIATIONS)
                session.add(links(image_id=vm_image_id,
                                  fpga_image_id=image.id, slot=free[0]))
        except sa_exc.IntegrityError:
            # A concurrent request took the slot or made the same pair.
            raise exception.Conflict(
                reason='VM image %s changed while associating; retry.'
                       % vm_image_id) from None

    @classmethod
    def disassociate(cls, image_id, project_id, vm_image_id):
        image = cls.get(image_id, project_id)
        links = models.FpgaImageAssociation
        with db_api.writer() as session:
            removed = session.execute(sa.delete(links).where(
                links.fpga_image_id == image.id,
                links.image_id == vm_image_id)).rowcount
        if not removed:
            raise exception.FpgaImageNotAssociated(image_id=image_id,
                                                   vm=vm_image_id)

    @classmethod
    def associations(cls, project_id, vm_image_id=None, image_id=None,
                     offset=0, limit=None):
        """[(VM image id, [its FPGA images of this project])], ordered by
        VM image and paged by VM image; with ``image_id``, only that FPGA
        image's associations."""
        links = models.FpgaImageAssociation
        images = models.FpgaImage
        if image_id is not None:
            cls.get(image_id, project_id)
        with db_api.reader() as session:
            vm_images = (sa.select(links.image_id)
                         .join(images, images.id == links.fpga_image_id)
                         .where(images.project_id == project_id)
                         .distinct().order_by(links.image_id))
            if vm_image_id is not None:
                vm_images = vm_images.where(links.image_id == vm_image_id)
            if image_id is not None:
                vm_images = vm_images.where(images.image_id == image_id)
            vm_images = vm_images.offset(offset).limit(limit).subquery()
            statement = (
                cls._select().add_columns(links.image_id.label('vm_image'))
                .join(links, links.fpga_image_id == images.id)
                .where(links.image_id.in_(sa.select(vm_images)),
                       images.project_id == project_id)
                .order_by(links.image_id, links.slot))
            if image_id is not None:
                statement = statement.where(images.image_id == image_id)
            rows = session.execute(statement).all()
        grouped = {}
        for row in rows:
            grouped.setdefault(row.vm_image, []).append(
                cls._from_result(row))
        return list(grouped.items())


def active_with_function_id(session):
    """(image_id, metadata dict) of the active images whose metadata
    names a function_id, newest first."""
    table = models.FpgaImage
    # The LIKE only narrows the candidates; the JSON decides.
    rows = session.execute(
        sa.select(table.image_id, table.metadata_json)
        .where(table.status == ACTIVE,
               table.metadata_json.like('%function_id%'))
        .order_by(table.created_at.desc(), table.id.desc()))
    decoded = ((image_id, json.loads(metadata)) for image_id, metadata in rows)
    return [(image_id, metadata) for image_id, metadata in decoded
            if 'function_id' in metadata]
