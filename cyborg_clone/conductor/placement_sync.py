"""Placement sync: each deployable of a host as a resource provider.

Every deployable a host still reports becomes a child provider of the
host's compute node provider (the one nova-compute registered under the
host name), named after the deployable (``<host>_<PCI address>``) with the
uuid ``deployable.rp_uuid_for(name)``. Its inventory is
``num_accelerators`` of the driver's resource class, all of it reserved
while the device is disabled or the deployable is not ``available`` (being
cleaned, or its cleanup failed); its traits are the driver's plus
``OWNER_CYBORG``, the mark by which we know our providers in the tree.
Providers of deployables that are gone are deleted, unless Placement still
holds allocations against them: then they are kept with their whole
inventory reserved, a warning names them, and the next report tries again.

The database is the truth and Placement follows it: a sync runs after
the database work has been committed, and a Placement failure is logged
and retried at the host's next report, never raised to the caller.

Cost: a conductor remembers, per host, the report it last brought Placement
in line with and what it wrote. An unchanged report of a host whose last
sync succeeded costs nothing: no SQL, no request to Placement. Any other
report re-reads the host's deployables (two queries) and its provider tree
(two requests), re-reads only the providers whose generation moved since
this conductor last saw them, and writes only what differs.

Concurrency: reports are cast to any conductor, so several may sync one
host. Placement's provider generations serialize them: a write based on a
stale read gets a conflict and is redone from a fresh read. Within one
conductor, a lock per host keeps a report and a device status change from
interleaving.
"""

import dataclasses
import threading

from oslo_log import log as logging

from cyborg_clone.clients import placement
from cyborg_clone.common import trait_names
from cyborg_clone.objects import attribute
from cyborg_clone.objects import deployable as deployable_obj
from cyborg_clone.objects import device as device_obj

LOG = logging.getLogger(__name__)

# Writes redone after a generation conflict before the host is left for
# its next report.
CONFLICT_RETRIES = 3


@dataclasses.dataclass(frozen=True)
class Provider:
    """A provider's inventories and traits, as we want them or as
    Placement last showed them (with its generation)."""

    uuid: str
    name: str
    # {resource class: {'total': n, 'reserved': m}}
    inventories: dict
    traits: frozenset
    generation: int | None = None


def wanted_providers(hostname):
    """What Placement should hold for ``hostname``'s deployables."""
    return [_wanted(found)
            for found in deployable_obj.Deployable.reported_on(hostname)]


def _wanted(found):
    dep = found.deployable
    attributes = dict(dep.attributes)
    # Drivers report the resource class; the device type is its fallback
    # for a row whose "rc" attribute an operator deleted.
    resource_class = attributes.get('rc', found.device_type)
    traits = {value for key, value in dep.attributes
              if key != 'rc' and attribute.DERIVED_KEY.match(key)}
    total = dep.num_accelerators
    inventories = {}
    if total > 0:
        # Disabled, being cleaned or failed to be: nova must not pick it.
        withheld = (found.device_status == device_obj.MAINTAINING
                    or dep.state != deployable_obj.AVAILABLE)
        inventories[resource_class] = {'total': total,
                                       'reserved': total if withheld else 0}
    return Provider(uuid=dep.rp_uuid or deployable_obj.rp_uuid_for(dep.name),
                    name=dep.name, inventories=inventories,
                    traits=frozenset(traits | {trait_names.OWNER}))


def _as_seen(uuid, name, generation, inventories, traits):
    """A Provider from Placement's answers, keeping the fields we set."""
    return Provider(
        uuid=uuid, name=name, generation=generation, traits=frozenset(traits),
        inventories={rc: {'total': inv['total'], 'reserved': inv['reserved']}
                     for rc, inv in inventories.items()})


@dataclasses.dataclass(frozen=True)
class _HostState:
    # The report fingerprint Placement was brought in line with; None
    # while the host needs another sync (a failure, a kept provider).
    fingerprint: str | None
    # {uuid: Provider} as last seen in Placement.
    providers: dict


class PlacementSync:
    """Brings Placement in line with the database, host by host; one per
    conductor, which keeps what it learned between reports."""

    def __init__(self, conf, client=None):
        self.client = client or placement.PlacementClient(conf)
        self._hosts = {}
        self._locks = {}
        self._locks_lock = threading.Lock()
        # (kind, name) of the custom traits and resource classes known to
        # exist, so that they are created once, not at every sync.
        self._ensured = set()
        self._said_unconfigured = False

    def host_reported(self, hostname, fingerprint, applied):
        """After ``hostname``'s report was applied to the database
        (``applied``) or found equal to the last one applied.

        Syncs unless the report is unchanged and the last sync of this
        host brought Placement in line with this very report.
        """
        if not self._configured():
            return
        with self._lock(hostname):
            state = self._hosts.get(hostname)
            if (not applied and state is not None
                    and state.fingerprint == fingerprint):
                return
            self._sync(hostname, fingerprint)

    def host_changed(self, hostname):
        """After a change to ``hostname``'s rows no report carries (a
        device enabled or disabled): sync now."""
        if not self._configured():
            return
        with self._lock(hostname):
            state = self._hosts.get(hostname)
            self._sync(hostname, state.fingerprint if state else None)

    def _configured(self):
        if self.client.configured:
            return True
        if not self._said_unconfigured:
            LOG.info('Placement is not configured ([placement]auth_type is '
                     'unset): accelerators are not reported to Placement.')
            self._said_unconfigured = True
        return False

    def _lock(self, hostname):
        with self._locks_lock:
            return self._locks.setdefault(hostname, threading.Lock())

    def _sync(self, hostname, fingerprint):
        state = self._hosts.get(hostname)
        one_pass = _ProviderPass(self.client, hostname,
                                 state.providers if state else {},
                                 self._ensured)
        try:
            one_pass.run()
        except placement.PlacementError as error:
            LOG.warning('Placement was not brought in line with host %s: '
                        '%s', hostname, error.faultstring)
            one_pass.settled = False
        if not one_pass.settled:
            # A trait or class we created may have been deleted since,
            # which is one reason a write can fail: the retry creates them
            # again.
            self._ensured.clear()
        self._hosts[hostname] = _HostState(
            fingerprint if one_pass.settled else None, one_pass.seen)


class _ProviderPass:
    """One pass over one host's providers."""

    def __init__(self, client, hostname, cached, ensured):
        self.client = client
        self.hostname = hostname
        self.cached = cached
        self.ensured = ensured
        # What Placement holds now, for the next pass.
        self.seen = dict(cached)
        # False when something is left for the next report to retry.
        self.settled = True
        self.counts = dict.fromkeys(('created', 'updated', 'deleted',
                                     'kept', 'failed'), 0)
        self.created = set()

    def run(self):
        wanted = {p.uuid: p for p in wanted_providers(self.hostname)}
        root = self.client.compute_node(self.hostname)
        listed = {p['uuid']: p for p in self.client.providers_in_tree(
            root, required=[trait_names.OWNER])}
        self.seen = {uuid: provider for uuid, provider in self.cached.items()
                     if uuid in listed}
        for uuid, provider in wanted.items():
            self._isolated(provider.name, self._converge, provider, root,
                           listed.get(uuid))
        for uuid in listed.keys() - wanted.keys():
            self._isolated(listed[uuid]['name'], self._remove, root,
                           listed[uuid])
        self._log()

    def _isolated(self, name, step, *args):
        """Run ``step`` so that one provider's failure spares the others;
        an unreachable Placement stops the whole pass."""
        try:
            step(*args)
        except placement.PlacementUnreachable:
            raise
        except placement.PlacementError as error:
            LOG.warning('Resource provider %s of host %s is not in line '
                        'with the database: %s', name, self.hostname,
                        error.faultstring)
            self.settled = False
            self.counts['failed'] += 1

    def _log(self):
        if any(self.counts.values()):
            LOG.info('Placement brought in line with host %s: %d resource '
                     'provider(s) created, %d updated, %d deleted, %d kept '
                     'while allocated, %d failed.', self.hostname,
                     *self.counts.values())
        else:
            LOG.debug('Placement already matched host %s.', self.hostname)

    def _converge(self, wanted, root, listed):
        current = self._current(wanted, root, listed)
        for _ in range(CONFLICT_RETRIES + 1):
            try:
                self._write(wanted, current)
                return
            except placement.GenerationConflict:
                LOG.info('Resource provider %s changed in Placement while '
                         'host %s was synced; reading it again.',
                         wanted.name, self.hostname)
                current = self._read(wanted)
        raise placement.PlacementError(
            action='update of resource provider %s' % wanted.name,
            reason='it changed in Placement during each of %d attempts'
                   % (CONFLICT_RETRIES + 1))

    def _current(self, wanted, root, listed):
        """The provider as Placement holds it, created if need be."""
        if listed is None:
            return self._create(wanted, root)
        cached = self.cached.get(wanted.uuid)
        # Any change to a provider moves its generation: an equal one
        # proves the cached inventories and traits current.
        if cached is not None and cached.generation == listed['generation']:
            return cached
        return self._read(wanted)

    def _read(self, wanted):
        # Inventories and traits come in two requests; a change between
        # them shows as two generations, and the pair is read again.
        for _ in range(CONFLICT_RETRIES + 1):
            generation, inventories = self.client.inventories(wanted.uuid)
            traits_generation, traits = self.client.traits(wanted.uuid)
            if generation == traits_generation:
                current = _as_seen(wanted.uuid, wanted.name, generation,
                                   inventories, traits)
                self.seen[wanted.uuid] = current
                return current
        raise placement.PlacementError(
            action='read of resource provider %s' % wanted.name,
            reason='it changed in Placement during each of %d attempts'
                   % (CONFLICT_RETRIES + 1))

    def _create(self, wanted, root):
        try:
            self.client.create_provider(wanted.uuid, wanted.name, root)
        except placement.ProviderExists:
            # Another conductor got there first, or an earlier pass created
            # it and failed before marking it ours.
            return self._adopt(wanted, root)
        self.counts['created'] += 1
        self.created.add(wanted.uuid)
        current = Provider(uuid=wanted.uuid, name=wanted.name,
                           inventories={}, traits=frozenset(), generation=0)
        self.seen[wanted.uuid] = current
        return current

    def _adopt(self, wanted, root):
        found = self.client.provider(wanted.uuid)
        if found is None:
            raise placement.PlacementError(
                action='creation of resource provider %s' % wanted.name,
                reason='another provider (not %s) has that name'
                       % wanted.uuid)
        if found['parent_provider_uuid'] != root:
            raise placement.PlacementError(
                action='creation of resource provider %s' % wanted.name,
                reason='%s exists under parent %s, not under the compute '
                       'node %s (%s)' % (wanted.uuid,
                                         found['parent_provider_uuid'],
                                         self.hostname, root))
        return self._read(wanted)

    def _write(self, wanted, current):
        """Send what differs; traits first, so a provider never offers
        inventory without the traits that describe it."""
        wrote = False
        if current.traits != wanted.traits:
            self._ensure('trait', wanted.traits, self.client.ensure_trait)
            generation = self.client.set_traits(
                wanted.uuid, current.generation, wanted.traits)
            current = dataclasses.replace(current, traits=wanted.traits,
                                          generation=generation)
            self.seen[wanted.uuid] = current
            wrote = True
        if current.inventories != wanted.inventories:
            self._ensure('resource class', wanted.inventories,
                         self.client.ensure_resource_class)
            generation = self.client.set_inventories(
                wanted.uuid, current.generation, wanted.inventories)
            current = dataclasses.replace(
                current, inventories=wanted.inventories,
                generation=generation)
            self.seen[wanted.uuid] = current
            wrote = True
        if wrote and wanted.uuid not in self.created:
            self.counts['updated'] += 1

    def _ensure(self, kind, names, create):
        for name in sorted(names):
            if (name.startswith(trait_names.CUSTOM_PREFIX)
                    and (kind, name) not in self.ensured):
                create(name)
                self.ensured.add((kind, name))

    def _remove(self, root, listed):
        try:
            self.client.delete_provider(listed['uuid'])
        except placement.ProviderInUse:
            LOG.warning('Host %s no longer reports %s, but its resource '
                        'provider %s has allocations in Placement: kept, '
                        'its inventory reserved, until they are removed; '
                        'retried at the next report.', self.hostname,
                        listed['name'], listed['uuid'])
            self.settled = False
            self.counts['kept'] += 1
            self._reserve_all(root, listed)
            return
        self.seen.pop(listed['uuid'], None)
        self.counts['deleted'] += 1

    def _reserve_all(self, root, listed):
        """Leave nothing of a kept provider to schedule: the device is
        gone, so a new instance placed there could never bind."""
        stub = Provider(uuid=listed['uuid'], name=listed['name'],
                        inventories={}, traits=frozenset())
        current = self._current(stub, root, listed)
        reserved = {rc: {'total': inv['total'], 'reserved': inv['total']}
                    for rc, inv in current.inventories.items()}
        self._converge(dataclasses.replace(current, inventories=reserved),
                       root, listed)
