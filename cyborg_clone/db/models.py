"""SQLAlchemy models: the database schema, one class per table.

Integrity rules live here as constraints so they hold whatever process
writes: unique names and uuids, and foreign keys that refuse to orphan rows
(an ARQ keeps its device profile, an attach handle can be held by at most one
ARQ).

Every foreign key column leads some index: deleting a parent row makes the
database look for its children (to cascade, or to refuse), and without one
that is a scan of the whole child table, for each row deleted.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql


def utcnow():
    """Now, in UTC, as the naive datetime every timestamp column holds."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# MySQL/MariaDB compare strings as their default collation says, and the
# one a server ships with ignores case and trailing spaces: "GPU" would be
# the name "gpu" (and "gpu "), for unique constraints and lookups alike.
# There every string column is compared byte for byte instead, as on
# PostgreSQL (C locale) and SQLite, and sorted by code point. The _bin
# collations still pad (ignore trailing spaces); MariaDB's _nopad_bin does
# not. MySQL proper has no such name (its equivalent is utf8mb4_0900_bin):
# this schema is for MariaDB. Migration 0004 sets these on existing
# databases.
BINARY_COLLATION = 'utf8mb4_nopad_bin'

# A plain DATETIME keeps whole seconds on MySQL/MariaDB; the others keep
# microseconds, and so must it (ordering, paging, what the API shows).
DATETIME_FSP = 6


def _string(length):
    """A VARCHAR compared byte for byte on every backend."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, collation=BINARY_COLLATION), 'mysql',
        'mariadb')


def _datetime():
    """A DATETIME with microseconds on every backend."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=DATETIME_FSP),
                                      'mysql', 'mariadb')


# Deterministic constraint names keep migrations identical on every backend.
_NAMING = {
    'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=_NAMING)


class TimestampMixin:
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        _datetime(), default=utcnow, nullable=False)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        _datetime(), onupdate=utcnow)


class Device(TimestampMixin, Base):
    """A physical card on a compute host."""

    __tablename__ = 'devices'
    __table_args__ = (sa.Index('ix_devices_hostname', 'hostname'),)

    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(_string(36), nullable=False, unique=True)
    type = orm.mapped_column(_string(30), nullable=False)
    vendor = orm.mapped_column(_string(255), nullable=False)
    model = orm.mapped_column(_string(255), nullable=False)
    std_board_info = orm.mapped_column(sa.Text)
    vendor_board_info = orm.mapped_column(sa.Text)
    hostname = orm.mapped_column(_string(255), nullable=False)
    driver_name = orm.mapped_column(_string(100))
    status = orm.mapped_column(_string(20), nullable=False,
                               default='enabled')


class ControlpathId(TimestampMixin, Base):
    """How the host reaches a device (for PCI cards: its management BDF)."""

    __tablename__ = 'controlpath_ids'
    __table_args__ = (sa.UniqueConstraint('device_id', 'cpid_info'),)

    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(_string(36), nullable=False, unique=True)
    device_id = orm.mapped_column(
        sa.ForeignKey('devices.id', ondelete='CASCADE'), nullable=False)
    cpid_type = orm.mapped_column(_string(30), nullable=False)
    cpid_info = orm.mapped_column(_string(255), nullable=False)


class Deployable(TimestampMixin, Base):
    """A logical unit of a card that accelerators are carved from."""

    __tablename__ = 'deployables'

    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(_string(36), nullable=False, unique=True)
    parent_id = orm.mapped_column(
        sa.ForeignKey('deployables.id', ondelete='CASCADE'), index=True)
    root_id = orm.mapped_column(
        sa.ForeignKey('deployables.id', ondelete='CASCADE'), index=True)
    name = orm.mapped_column(_string(255), nullable=False, unique=True)
    num_accelerators = orm.mapped_column(sa.Integer, nullable=False)
    device_id = orm.mapped_column(
        sa.ForeignKey('devices.id', ondelete='CASCADE'), nullable=False,
        index=True)
    driver_name = orm.mapped_column(_string(100))
    bitstream_id = orm.mapped_column(_string(64))
    rp_uuid = orm.mapped_column(_string(36), unique=True)
    # Set while its host no longer reports it but an ARQ still holds it.
    vanished_at = orm.mapped_column(_datetime())
    # available | cleaning | cleanup_failed (objects/deployable.py): only
    # an available deployable is offered and bound.
    state = orm.mapped_column(_string(20), nullable=False,
                              default='available',
                              server_default='available')
    # Why a cleanup failed (the tool's message); NULL otherwise.
    state_reason = orm.mapped_column(_string(255))


class Attribute(TimestampMixin, Base):
    """A key/value fact about a deployable (resource class, traits...)."""

    __tablename__ = 'attributes'
    __table_args__ = (sa.UniqueConstraint('deployable_id', 'key'),)

    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(_string(36), nullable=False, unique=True)
    deployable_id = orm.mapped_column(
        sa.ForeignKey('deployables.id', ondelete='CASCADE'), nullable=False)
    key = orm.mapped_column(_string(255), nullable=False)
    value = orm.mapped_column(_string(255), nullable=False)


class AttachHandle(TimestampMixin, Base):
    """One assignable accelerator: what Nova attaches to an instance."""

    __tablename__ = 'attach_handles'
    __table_args__ = (
        sa.UniqueConstraint('deployable_id', 'attach_info'),
        sa.Index('ix_attach_handles_deployable_id_in_use',
                 'deployable_id', 'in_use'),
    )

    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(_string(36), nullable=False, unique=True)
    deployable_id = orm.mapped_column(
        sa.ForeignKey('deployables.id', ondelete='CASCADE'), nullable=False)
    cpid_id = orm.mapped_column(
        sa.ForeignKey('controlpath_ids.id', ondelete='CASCADE'),
        nullable=False, index=True)
    attach_type = orm.mapped_column(_string(30), nullable=False)
    attach_info = orm.mapped_column(_string(255), nullable=False)
    in_use = orm.mapped_column(sa.Boolean, nullable=False, default=False)


class DeviceProfile(TimestampMixin, Base):
    """A named set of accelerator requirements, like a flavor."""

    __tablename__ = 'device_profiles'

    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(_string(36), nullable=False, unique=True)
    name = orm.mapped_column(_string(255), nullable=False, unique=True)
    description = orm.mapped_column(_string(255))
    # The groups as submitted, a JSON list of string->string objects.
    profile_json = orm.mapped_column(sa.Text, nullable=False)


class AcceleratorRequest(TimestampMixin, Base):
    """An ARQ: a request for one accelerator for one instance."""

    __tablename__ = 'accelerator_requests'
    __table_args__ = (
        sa.Index('ix_accelerator_requests_instance_uuid', 'instance_uuid'),
        sa.Index('ix_accelerator_requests_project_id', 'project_id'),
        sa.Index('ix_accelerator_requests_state', 'state'),
        # Each conductor's sweep looks for resolved ARQs Nova was not told
        # about; Bound rows pile up, unnotified ones are few.
        sa.Index('ix_accelerator_requests_state_notified_at', 'state',
                 'notified_at'),
    )

    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(_string(36), nullable=False, unique=True)
    state = orm.mapped_column(_string(20), nullable=False)
    # RESTRICT: a profile that ARQs use cannot be deleted under them.
    device_profile_id = orm.mapped_column(
        sa.ForeignKey('device_profiles.id', ondelete='RESTRICT'),
        nullable=False, index=True)
    device_profile_group_id = orm.mapped_column(sa.Integer, nullable=False)
    project_id = orm.mapped_column(_string(255))
    hostname = orm.mapped_column(_string(255))
    device_rp_uuid = orm.mapped_column(_string(36))
    instance_uuid = orm.mapped_column(_string(36))
    deployable_id = orm.mapped_column(
        sa.ForeignKey('deployables.id', ondelete='SET NULL'), index=True)
    # UNIQUE: the database itself refuses two ARQs on one handle.
    attach_handle_id = orm.mapped_column(
        sa.ForeignKey('attach_handles.id', ondelete='SET NULL'),
        unique=True)
    bind_started_at = orm.mapped_column(_datetime())
    bind_failure = orm.mapped_column(_string(255))
    # The conductor (conductors.id) that finishes this bind and tells Nova.
    # No foreign key: a dead conductor's row goes, its ARQs stay for
    # another conductor to adopt.
    bind_owner = orm.mapped_column(_string(36))
    # When Nova was sent this ARQ's accelerator-request-bound event; NULL
    # until then (and again once the ARQ is bound anew).
    notified_at = orm.mapped_column(_datetime())
    # JSON: what a bound ARQ attaches when the bind made it (a vGPU's
    # mediated device); NULL: its attach handle's own attach_info.
    attach_info = orm.mapped_column(sa.Text())


class Conductor(Base):
    """A running conductor process and its heartbeat. The binds a
    conductor owns are adopted by the others once it stops beating."""

    __tablename__ = 'conductors'

    # A new uuid each time a conductor process starts.
    id = orm.mapped_column(_string(36), primary_key=True)
    host = orm.mapped_column(_string(255), nullable=False)
    pid = orm.mapped_column(sa.Integer, nullable=False)
    started_at = orm.mapped_column(_datetime(), nullable=False,
                                   default=utcnow)
    heartbeat_at = orm.mapped_column(_datetime(), nullable=False,
                                     default=utcnow)


class HostReport(Base):
    """The fingerprint of each host's last applied discovery report, and
    the drivers that report said failed."""

    __tablename__ = 'host_reports'

    hostname = orm.mapped_column(_string(255), primary_key=True)
    fingerprint = orm.mapped_column(_string(64), nullable=False)
    reported_at = orm.mapped_column(_datetime(), nullable=False,
                                    default=utcnow, onupdate=utcnow)
    # JSON {driver name: {"reason", "since"}}; NULL while none fails.
    failed_drivers = orm.mapped_column(sa.Text)


class FpgaImage(TimestampMixin, Base):
    """An FPGA image of a project: built from a DCP tarball or registered
    from a finished image file."""

    __tablename__ = 'fpga_images'
    __table_args__ = (
        sa.Index('ix_fpga_images_project_id_created_at', 'project_id',
                 'created_at'),
        sa.Index('ix_fpga_images_status', 'status'),
    )

    id = orm.mapped_column(sa.Integer, primary_key=True)
    # The id clients see: 32 lowercase hex characters.
    image_id = orm.mapped_column(_string(32), nullable=False, unique=True)
    project_id = orm.mapped_column(_string(255), nullable=False)
    name = orm.mapped_column(_string(64), nullable=False)
    description = orm.mapped_column(_string(255), nullable=False,
                                    default='')
    status = orm.mapped_column(_string(20), nullable=False)
    message = orm.mapped_column(_string(255))
    metadata_json = orm.mapped_column(sa.Text, nullable=False, default='{}')
    # The DCP tarball (builds) or image file (registrations) it came from.
    bucket = orm.mapped_column(_string(63), nullable=False)
    object_key = orm.mapped_column(_string(128), nullable=False)
    log_directory = orm.mapped_column(_string(64), nullable=False,
                                      default='')
    size_bytes = orm.mapped_column(sa.BigInteger)
    sha256 = orm.mapped_column(_string(64))
    # When its current build or registration step started (recovery).
    work_started_at = orm.mapped_column(_datetime())


class FpgaImageBuild(Base):
    """A project's build in flight. The primary key is the project, so the
    database itself allows one build per project at a time, whichever API
    worker or conductor asks."""

    __tablename__ = 'fpga_image_builds'

    project_id = orm.mapped_column(_string(255), primary_key=True)
    fpga_image_id = orm.mapped_column(
        sa.ForeignKey('fpga_images.id', ondelete='CASCADE'), nullable=False,
        unique=True)
    started_at = orm.mapped_column(_datetime(), nullable=False,
                                   default=utcnow)


class FpgaImageAssociation(Base):
    """An FPGA image associated with a VM image. ``slot`` (0-9, unique per
    VM image) lets the database enforce "at most 10 per VM image" even
    when two requests race."""

    __tablename__ = 'fpga_image_associations'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'fpga_image_id'),
        sa.UniqueConstraint('image_id', 'slot'),
        sa.CheckConstraint('slot >= 0 AND slot < 10',
                           name='ck_fpga_image_associations_slot'),
        sa.Index('ix_fpga_image_associations_fpga_image_id',
                 'fpga_image_id'),
    )

    id = orm.mapped_column(sa.Integer, primary_key=True)
    image_id = orm.mapped_column(_string(36), nullable=False)
    fpga_image_id = orm.mapped_column(
        sa.ForeignKey('fpga_images.id', ondelete='RESTRICT'), nullable=False)
    slot = orm.mapped_column(sa.Integer, nullable=False)
    created_at = orm.mapped_column(_datetime(), nullable=False,
                                   default=utcnow)
