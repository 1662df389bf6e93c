"""A host's hardware rows, rewritten from a discovery report as a diff.

Every row of one host (devices, control paths, deployables, attach handles,
attributes) is read with one query per table, compared with the report in
memory and changed in place in the same writer transaction: new rows go in
one INSERT per table however many cards are new, each changed row gets an
UPDATE, and uuids (which Placement, ARQs and operators hold) never change.
Rows the report no longer lists are deleted, except those an accelerator
request still holds (an ``in_use`` attach handle, its deployable and its
device), which are kept until the ARQ lets go, the deployable marked
``vanished_at`` meanwhile so that no new bind lands on it, and except the
rows of a driver the report says failed to discover, which stay as they
are; the failure is recorded with the host's fingerprint.
"""

import collections
import dataclasses
import json

from oslo_log import log as logging
import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import attach_handle
from cyborg_clone.objects import attribute
from cyborg_clone.objects import base
from cyborg_clone.objects import deployable as deployable_obj

LOG = logging.getLogger(__name__)

# Recorded instead of the report's fingerprint while rows are kept for
# in-use handles: it never equals a sha256, so the next report is applied
# again (and cleans them up once released) even if it is unchanged.
UNSETTLED = 'unsettled'


def canonical_json(value):
    """The one spelling of a JSON column, so equal dicts compare equal."""
    return json.dumps(value, sort_keys=True)


@dataclasses.dataclass
class Changes:
    """What a sync did, counted in rows."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    kept: int = 0


@dataclasses.dataclass(frozen=True)
class StoredReport:
    """What the host's last applied report left: its fingerprint, and
    ``{driver name: {"reason", "since"}}`` for the drivers it said failed
    ("since": when the first report saying so was applied, UTC, ISO)."""

    fingerprint: str
    failed: dict


@dataclasses.dataclass(frozen=True)
class DriverFailure:
    """A driver of a host that fails to discover, as its agent last said."""

    hostname: str
    driver: str
    reason: str
    since: str


def stored_report(hostname):
    """The host's StoredReport, or None before its first report."""
    table = models.HostReport
    with db_api.reader() as session:
        row = session.execute(
            sa.select(table.fingerprint, table.failed_drivers).where(
                table.hostname == hostname)).one_or_none()
    if row is None:
        return None
    return StoredReport(row.fingerprint, _failed(row.failed_drivers))


def stored_fingerprint(hostname):
    """The fingerprint of the host's last applied report, or None."""
    stored = stored_report(hostname)
    return stored.fingerprint if stored else None


def failure_records(previous, reasons):
    """The ``failed`` to store for drivers failing with ``reasons``
    (``{driver: reason}``), keeping the "since" of those that failed in
    ``previous`` (a StoredReport's ``failed``) already."""
    now = models.utcnow().isoformat(timespec='seconds')
    return {driver: {'reason': reason,
                     'since': previous.get(driver, {}).get('since', now)}
            for driver, reason in reasons.items()}


def record_failures(hostname, failed):
    """Store ``failed`` (see failure_records) for a report otherwise
    unchanged: one UPDATE."""
    table = models.HostReport
    with db_api.writer() as session:
        session.execute(sa.update(table).where(table.hostname == hostname)
                        .values(failed_drivers=_failed_column(failed)))


def driver_failures():
    """Every host's failing drivers, as DriverFailure, by host and
    driver."""
    table = models.HostReport
    with db_api.reader() as session:
        rows = session.execute(
            sa.select(table.hostname, table.failed_drivers)
            .where(table.failed_drivers.is_not(None))
            .order_by(table.hostname)).all()
    return [DriverFailure(row.hostname, driver, record.get('reason', ''),
                          record.get('since', ''))
            for row in rows
            for driver, record in sorted(_failed(row.failed_drivers).items())]


def _failed(column):
    """The failed_drivers column as a dict; {} for NULL or garbage."""
    try:
        failed = json.loads(column) if column else {}
    except ValueError:
        return {}
    if not isinstance(failed, dict):
        return {}
    return {str(driver): record for driver, record in failed.items()
            if isinstance(record, dict)}


def _failed_column(failed):
    return canonical_json(failed) if failed else None


def sync(hostname, devices, fingerprint, failed=None):
    """Make ``hostname``'s rows match ``devices`` (report.Device records)
    and record ``fingerprint`` and ``failed``, all in one transaction.

    :param failed: the drivers that failed to discover (see
        failure_records): their rows stay as they are, whatever the report
        lists.
    :returns: Changes.
    :raises Invalid: when the report names a device, deployable or attach
        handle twice; nothing is written then.
    """
    _check_unique(hostname, devices)
    with db_api.writer() as session:
        host = _InventoryDiff(session, hostname, failed or {})
        host.apply(devices)
        _record(session, hostname,
                UNSETTLED if host.changes.kept else fingerprint, failed)
    return host.changes


def _check_unique(hostname, devices):
    seen = set()

    def once(kind, key):
        if (kind, key) in seen:
            raise exception.Invalid(
                reason='the report of host %s lists %s %s twice.'
                       % (hostname, kind, key))
        seen.add((kind, key))

    for device in devices:
        once('control path', canonical_json(device.controlpath.cpid_info))
        for dep in device.deployables:
            once('deployable', dep.name)
            for handle in dep.attach_handles:
                once('attach handle of ' + dep.name,
                     canonical_json(handle.attach_info))


def _record(session, hostname, fingerprint, failed):
    table = models.HostReport
    values = {'fingerprint': fingerprint,
              'failed_drivers': _failed_column(failed)}
    updated = session.execute(
        sa.update(table).where(table.hostname == hostname)
        .values(**values)).rowcount
    if not updated:
        session.add(table(hostname=hostname, **values))


def _set(row, values):
    """Update ``row`` in place; True when something changed."""
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for name, value in changed.items():
        setattr(row, name, value)
    return bool(changed)


@dataclasses.dataclass
class _Spot:
    """Where a reported device lands: its rows' ids, once known."""

    reported: object
    cpid_info: str
    device_id: int | None = None
    cpid_id: int | None = None
    # The device row to insert, for a device not seen before.
    new_values: dict | None = None


class _InventoryDiff:
    """One host's rows, read once, compared with its report and changed
    in place within the caller's transaction."""

    def __init__(self, session, hostname, failed):
        self.session = session
        self.hostname = hostname
        self.failed = set(failed)
        self.changes = Changes()
        self._load()
        # Existing rows the report still lists, by id.
        self.seen = collections.defaultdict(set)
        # Rows to insert, as dicts: a table's rows go in one statement.
        self.new_deployables = []
        self.new_handles = []
        self.new_attributes = []

    def _host_rows(self, model, *joins):
        statement = sa.select(model)
        for target, condition in joins:
            statement = statement.join(target, condition)
        return self.session.scalars(statement.where(
            models.Device.hostname == self.hostname)).all()

    def _load(self):
        dev, dep = models.Device, models.Deployable
        by_device = (dev, dev.id == dep.device_id)
        self.devices = {r.id: r for r in self._host_rows(dev)}
        self.cpids = self._host_rows(
            models.ControlpathId,
            (dev, dev.id == models.ControlpathId.device_id))
        self.deployables = {r.name: r for r in self._host_rows(
            dep, by_device)}
        self.handles = self._host_rows(
            models.AttachHandle,
            (dep, dep.id == models.AttachHandle.deployable_id), by_device)
        self.attributes = self._host_rows(
            models.Attribute,
            (dep, dep.id == models.Attribute.deployable_id), by_device)
        self.cpid_by_info = {r.cpid_info: r for r in self.cpids}
        self.handle_by_key = {(r.deployable_id, r.attach_info): r
                              for r in self.handles}
        self.attrs_by_dep = collections.defaultdict(dict)
        for row in self.attributes:
            self.attrs_by_dep[row.deployable_id][row.key] = row

    def apply(self, devices):
        # Level by level, so that each level's new rows go in one INSERT
        # whatever their number: a child needs its parent's id.
        placed = [self._device(reported) for reported in devices]
        self._insert_devices(placed)
        deployables = [(spot, reported) for spot in placed
                       for reported in spot.reported.deployables]
        for spot, reported in deployables:
            self._deployable(spot, reported)
        dep_ids = self._insert_deployables()
        for spot, reported in deployables:
            dep_id = dep_ids[reported.name]
            for handle in reported.attach_handles:
                self._attach_handle(dep_id, spot, handle)
            self._attributes(dep_id, reported)
        self._insert(models.AttachHandle, self.new_handles)
        self._insert(models.Attribute, self.new_attributes)
        self._delete_vanished()

    def _insert(self, model, rows, *returning):
        """Insert ``rows`` (dicts) in one statement; the ``returning``
        columns of each, in no particular order."""
        if not rows:
            return []
        self.changes.created += len(rows)
        # NULLs written out, or rows leaving different columns empty would
        # go in separate INSERTs.
        statement = sa.insert(model).execution_options(render_nulls=True)
        if not returning:
            self.session.execute(statement, rows)
            return []
        # Without sort_by_parameter_order SQLite batches the rows too; the
        # caller matches them up by a unique column instead.
        return self.session.execute(statement.returning(*returning),
                                    rows).all()

    def _update(self, kind, row, values):
        if _set(row, values):
            self.changes.updated += 1
        self.seen[kind].add(row.id)

    def _device(self, reported):
        spot = _Spot(reported, canonical_json(reported.controlpath.cpid_info))
        values = {
            'type': reported.type, 'vendor': reported.vendor,
            'model': reported.model, 'driver_name': reported.driver_name,
            'std_board_info': json.dumps(reported.std_board_info),
            'vendor_board_info': reported.vendor_board_info,
        }
        cpid = self.cpid_by_info.get(spot.cpid_info)
        if cpid is None:
            spot.new_values = dict(values, uuid=base.new_uuid(),
                                   hostname=self.hostname)
            return spot
        self._update('control path', cpid,
                     {'cpid_type': reported.controlpath.cpid_type})
        self._update('device', self.devices[cpid.device_id], values)
        spot.device_id, spot.cpid_id = cpid.device_id, cpid.id
        return spot

    def _insert_devices(self, placed):
        new = [spot for spot in placed if spot.device_id is None]
        devices = models.Device
        ids = dict(self._insert(devices, [s.new_values for s in new],
                                devices.uuid, devices.id))
        for spot in new:
            spot.device_id = ids[spot.new_values['uuid']]
        cpids = models.ControlpathId
        # One control path per new device, so the device tells them apart.
        ids = dict(self._insert(cpids, [{
            'uuid': base.new_uuid(), 'device_id': spot.device_id,
            'cpid_type': spot.reported.controlpath.cpid_type,
            'cpid_info': spot.cpid_info} for spot in new],
            cpids.device_id, cpids.id))
        for spot in new:
            spot.cpid_id = ids[spot.device_id]

    def _deployable(self, spot, reported):
        values = {
            'num_accelerators': reported.num_accelerators,
            'device_id': spot.device_id,
            'driver_name': spot.reported.driver_name,
            'bitstream_id': reported.bitstream_id,
            'rp_uuid': deployable_obj.rp_uuid_for(reported.name),
            # Reported again: usable again.
            'vanished_at': None,
        }
        row = self.deployables.get(reported.name)
        if row is not None:
            self._update('deployable', row, values)
        else:
            self.new_deployables.append(dict(values, uuid=base.new_uuid(),
                                             name=reported.name))

    def _insert_deployables(self):
        """The id of every deployable, old or new, by name."""
        table = models.Deployable
        ids = {name: row.id for name, row in self.deployables.items()}
        ids.update(self._insert(table, self.new_deployables, table.name,
                                table.id))
        return ids

    def _attach_handle(self, dep_id, spot, reported):
        info = canonical_json(reported.attach_info)
        values = {'attach_type': reported.attach_type,
                  'cpid_id': spot.cpid_id}
        row = self.handle_by_key.get((dep_id, info))
        if row is not None:
            self._update('attach handle', row, values)
        else:
            self.new_handles.append(dict(
                values, uuid=base.new_uuid(), deployable_id=dep_id,
                attach_info=info, in_use=False))

    def _attributes(self, dep_id, reported):
        existing = self.attrs_by_dep.get(dep_id, {})
        for key, value in attribute.derived(reported.resource_class,
                                            reported.traits):
            if key in existing:
                self._update('attribute', existing[key], {'value': value})
            else:
                self.new_attributes.append({
                    'uuid': base.new_uuid(), 'deployable_id': dep_id,
                    'key': key, 'value': value})

    def _vanished(self, kind, rows, must_keep):
        """The rows of ``kind`` the report left out: (kept, ids to
        delete)."""
        kept, gone = [], []
        for row in rows:
            if row.id in self.seen[kind]:
                continue
            if must_keep(row):
                LOG.warning('Host %s no longer reports %s %s; kept while '
                            'an accelerator request holds it or one of its '
                            'attach handles.', self.hostname, kind, row.uuid)
                kept.append(row)
            else:
                gone.append(row.id)
        return kept, gone

    def _hold_failed_drivers(self):
        """Count the rows of the drivers that failed as seen: the report
        says nothing about their cards, so they stay as last known."""
        held = {d.id for d in self.deployables.values()
                if d.driver_name in self.failed}
        self.seen['deployable'] |= held
        self.seen['device'] |= {d.id for d in self.devices.values()
                                if d.driver_name in self.failed}
        self.seen['attach handle'] |= {h.id for h in self.handles
                                       if h.deployable_id in held}
        self.seen['attribute'] |= {a.id for a in self.attributes
                                   if a.deployable_id in held}

    def _delete_vanished(self):
        self._hold_failed_drivers()
        in_use_deps = {h.deployable_id for h in self.handles if h.in_use}
        kept_handles, gone_handles = self._vanished(
            'attach handle', self.handles, lambda h: h.in_use)
        kept_deps, gone_deps = self._vanished(
            'deployable', self.deployables.values(),
            lambda d: d.id in in_use_deps)
        # A device stays while something kept still points to it.
        cpid_device = {c.id: c.device_id for c in self.cpids}
        needed = ({d.device_id for d in kept_deps}
                  | {cpid_device[h.cpid_id] for h in kept_handles})
        kept_devices, gone_devices = self._vanished(
            'device', self.devices.values(), lambda d: d.id in needed)
        # Operator-created attributes are not discovery's to delete.
        kept_dep_ids = {d.id for d in kept_deps}
        gone_attrs = [
            a.id for a in self.attributes
            if attribute.DERIVED_KEY.match(a.key)
            and a.id not in self.seen['attribute']
            and a.deployable_id not in kept_dep_ids]
        self.changes.kept = (len(kept_handles) + len(kept_deps)
                             + len(kept_devices))
        now = models.utcnow()
        for dep in kept_deps:
            if dep.vanished_at is None:
                dep.vanished_at = now
        # Children first; the foreign keys cascade anyway, but explicit
        # deletes keep the counts honest.
        for model, ids in ((models.AttachHandle, gone_handles),
                           (models.Attribute, gone_attrs),
                           (models.Deployable, gone_deps),
                           (models.Device, gone_devices)):
            if ids:
                deleted = self.session.execute(
                    sa.delete(model).where(model.id.in_(ids),
                                           *_STILL_FREE.get(model, ())),
                    execution_options={'synchronize_session': False},
                ).rowcount
                self.changes.deleted += deleted
                if model is not models.Attribute:
                    self.changes.kept += len(ids) - deleted


# Conditions each DELETE checks again itself: an ARQ may claim a handle
# after the rows were read, since only SQLite serializes whole writer
# transactions.
_STILL_FREE = {
    models.AttachHandle: (models.AttachHandle.in_use.is_(False),),
    models.Deployable: (
        ~sa.exists().where(attach_handle.in_use_on(models.Deployable.id)),),
    models.Device: (
        ~sa.exists().where(models.Deployable.device_id == models.Device.id),
        ~sa.exists().where(
            models.AttachHandle.cpid_id == models.ControlpathId.id,
            models.ControlpathId.device_id == models.Device.id)),
}
