"""Device sync: apply an agent's discovery report to the database.

Agents report every ``[agent]report_interval`` whether or not anything
changed, so the common case must be cheap: the report's fingerprint (a
sha256 of its canonical JSON) is compared with the one stored for the host,
and an unchanged report costs that single read. A changed report is applied
as a diff in one writer transaction (``objects.host_inventory``): a failure
leaves the previous state and fingerprint in place, so the next report
simply tries again. Placement follows the database afterwards
(``placement_sync``), at no cost for an unchanged report.

A report also names the drivers that failed to discover, and why: their
rows are left as they are, and the failures are recorded per host and
driver for ``cyborg-clone-status``. Which drivers failed is part of the
fingerprint; a new reason alone costs one UPDATE more.
"""

import hashlib
import json

from oslo_log import log as logging
from sqlalchemy import exc as sa_exc

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.drivers import report
from cyborg_clone.objects import host_inventory

LOG = logging.getLogger(__name__)

# Enough of a driver's failure to say what went wrong; an agent sends no
# more (resource_tracker.MAX_REASON), a client might.
MAX_REASON = 500


def fingerprint(report_primitive, failed_drivers=None):
    """The sha256 of a report's canonical JSON, with the names of the
    drivers that failed (their reasons are compared apart, so that a
    reason that changes every round costs one UPDATE, not a whole sync)."""
    value = report_primitive
    if failed_drivers:
        value = {'devices': report_primitive,
                 'failed_drivers': sorted(failed_drivers)}
    canonical = json.dumps(value, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(canonical.encode()).hexdigest()


# What _apply answers for a report equal to the last one applied.
_UNCHANGED = object()


def apply_report(context, hostname, report_primitive, placement=None,
                 failed_drivers=None):
    """Make the database match ``hostname``'s report, then Placement.

    The log shows how many SQL statements the database work took: the
    figure that proves unchanged reports stay cheap however many cards a
    host has. Placement follows once that work is committed; its failures
    are logged and retried at the next report, never raised here.

    :param report_primitive: ``report.to_primitive(devices)`` as the agent
        sent it.
    :param placement: the conductor's ``placement_sync.PlacementSync``,
        or None to leave Placement alone.
    :param failed_drivers: ``{driver name: why its discovery failed}``:
        the rows of those drivers stay as they are (the report says
        nothing of their cards), and the failures are recorded for
        ``cyborg-clone-status``.
    :returns: ``host_inventory.Changes``; None when the report equals the
        last one applied, or when it could not be applied for a conflict
        (logged; the next report retries).
    :raises Invalid: for a malformed report; nothing is written.
    """
    failed = _checked_failures(hostname, failed_drivers)
    digest = fingerprint(report_primitive, failed)
    with db_api.counting_statements() as statements:
        changes = _apply(hostname, report_primitive, digest, failed)
    if changes is _UNCHANGED:
        LOG.debug('Report of host %s unchanged (%d SQL statements).',
                  hostname, statements.value)
    elif changes is not None:
        LOG.info('Applied the report of host %s: %d rows created, %d '
                 'updated, %d deleted, %d kept while in use (%d SQL '
                 'statements).', hostname, changes.created, changes.updated,
                 changes.deleted, changes.kept, statements.value)
    # A report that was not applied (a conflict) says nothing about the
    # database's state: Placement waits for the one that is.
    if placement is not None and changes is not None:
        placement.host_reported(hostname, digest,
                                applied=changes is not _UNCHANGED)
    return None if changes is _UNCHANGED else changes


def _checked_failures(hostname, failed_drivers):
    """``failed_drivers`` as {str: str}, reasons cut to a storable size."""
    if not failed_drivers:
        return {}
    if not isinstance(failed_drivers, dict) or not all(
            isinstance(name, str) and name for name in failed_drivers):
        raise exception.Invalid(
            reason='malformed discovery report from host %s: '
                   'failed_drivers must map driver names to reasons.'
                   % hostname)
    return {name: ' '.join(str(reason).split())[:MAX_REASON]
            for name, reason in failed_drivers.items()}


def _apply(hostname, report_primitive, digest, failed):
    """Changes, _UNCHANGED, or None after a conflict."""
    stored = host_inventory.stored_report(hostname)
    previous = stored.failed if stored else {}
    records = host_inventory.failure_records(previous, failed)
    if stored is not None and stored.fingerprint == digest:
        if records != previous:
            # Same cards, same failing drivers, another reason.
            _log_failures(hostname, previous, records)
            host_inventory.record_failures(hostname, records)
        return _UNCHANGED
    try:
        devices = report.from_primitive(report_primitive)
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise exception.Invalid(
            reason='malformed discovery report from host %s: %s'
                   % (hostname, error)) from None
    try:
        changes = host_inventory.sync(hostname, devices, digest, records)
    except sa_exc.IntegrityError as error:
        # Another conductor applied a report of this host at the same time,
        # or a deployable name is taken by another host; the transaction
        # rolled back and the next report tries again.
        LOG.warning('Report of host %s not applied this time: %s',
                    hostname, error)
        return None
    _log_failures(hostname, previous, records)
    return changes


def _log_failures(hostname, previous, records):
    """Say once what changed in the host's failing drivers."""
    for driver, record in sorted(records.items()):
        if previous.get(driver, {}).get('reason') != record['reason']:
            LOG.warning('Driver %s of host %s fails to discover (since %s '
                        'UTC): %s. Its cards are kept as last reported.',
                        driver, hostname, record['since'], record['reason'])
    for driver in sorted(set(previous) - set(records)):
        LOG.info('Driver %s of host %s discovers again.', driver, hostname)
