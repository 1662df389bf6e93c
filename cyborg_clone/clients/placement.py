"""OpenStack Placement's REST API, as the conductor's Placement sync needs it.

A thin wrapper over a keystoneauth1 Adapter loaded from the [placement]
section, speaking one microversion. Every answer the caller must act on
becomes a return value or one of the exceptions below, so callers never
read status codes; every error names the request and quotes Placement's
own explanation.
"""

import urllib.parse

from keystoneauth1 import exceptions as ks_exc

from cyborg_clone.clients import service_client
from cyborg_clone.common import exception

GROUP = 'placement'
# The newest microversion of the Placement we test against (16.0.0). We
# need at least 1.17 (required traits), 1.18 (required on provider lists),
# 1.20 (POST answers the provider) and 1.7 (PUT resource classes).
MICROVERSION = '1.39'


class PlacementError(exception.CyborgCloneException):
    message = 'Placement %(action)s failed: %(reason)s'
    code = 503


class PlacementUnreachable(PlacementError):
    message = 'Placement could not be reached for %(action)s: %(reason)s'


class ComputeNodeNotRegistered(PlacementError):
    message = ('The compute node %(host)s is not registered in Placement '
               'yet (nova-compute registers it when it starts); its '
               'accelerators will be reported then: retried at its next '
               'report.')


class GenerationConflict(PlacementError):
    """Someone changed the provider since we read its generation."""


class ProviderInUse(PlacementError):
    """The provider, or inventory we tried to remove, has allocations."""


class ProviderExists(PlacementError):
    """A provider with this name or uuid exists already."""


# Placement's error codes (the "code" of its JSON errors) we act on.
_ERRORS = {
    'placement.concurrent_update': GenerationConflict,
    'placement.resource_provider.inuse': ProviderInUse,
    'placement.inventory.inuse': ProviderInUse,
    'placement.duplicate_name': ProviderExists,
}


def _path(*parts, **query):
    path = '/' + '/'.join(urllib.parse.quote(part, safe='') for part in parts)
    if query:
        path += '?' + urllib.parse.urlencode(query)
    return path


def _error(method, path, response):
    """The exception for a response Placement refused."""
    code, detail = None, response.text
    try:
        [error] = response.json()['errors'][:1]
        code = error.get('code')
        # The detail starts with the status's generic sentence; the last
        # paragraph is what Placement has to say about this request.
        detail = error.get('detail', '').strip().split('\n\n')[-1].strip()
    except (ValueError, KeyError, TypeError):
        pass
    cls = _ERRORS.get(code, PlacementError)
    return cls(action='%s %s' % (method, path),
               reason='%s %s' % (response.status_code, detail or code))


class PlacementClient(service_client.ServiceClient):
    """The calls the Placement sync makes; each raises
    PlacementUnreachable when Placement cannot be reached and
    PlacementError for an unexpected answer, besides the specific
    exceptions it documents."""

    GROUP = GROUP

    def _request(self, method, path, body=None, ok=(200,)):
        try:
            response = self.adapter.request(
                path, method, json=body, microversion=MICROVERSION,
                raise_exc=False)
        except ks_exc.ClientException as error:
            raise PlacementUnreachable(action='%s %s' % (method, path),
                                       reason=error) from None
        if response.status_code not in ok:
            raise _error(method, path, response)
        return response

    def _get(self, *parts, **query):
        return self._request('GET', _path(*parts, **query)).json()

    def compute_node(self, hostname):
        """The uuid of the provider nova-compute registered for
        ``hostname`` (named after it).

        :raises ComputeNodeNotRegistered: when there is none yet.
        """
        found = self._get('resource_providers',
                          name=hostname)['resource_providers']
        if not found:
            raise ComputeNodeNotRegistered(host=hostname)
        return found[0]['uuid']

    def providers_in_tree(self, root_uuid, required=()):
        """The providers of ``root_uuid``'s tree having every trait of
        ``required``, as Placement lists them (uuid, name, generation,
        parent_provider_uuid...)."""
        query = {'in_tree': root_uuid}
        if required:
            query['required'] = ','.join(required)
        return self._get('resource_providers', **query)['resource_providers']

    def provider(self, uuid):
        """The provider ``uuid``, or None when there is none."""
        response = self._request('GET', _path('resource_providers', uuid),
                                 ok=(200, 404))
        return response.json() if response.status_code == 200 else None

    def create_provider(self, uuid, name, parent_uuid):
        """Create a child provider of ``parent_uuid``; its generation is 0.

        :raises ProviderExists: when the uuid or the name is taken.
        """
        self._request('POST', _path('resource_providers'), body={
            'uuid': uuid, 'name': name, 'parent_provider_uuid': parent_uuid})

    def inventories(self, uuid):
        """(generation, {resource class: {total, reserved, ...}})."""
        body = self._get('resource_providers', uuid, 'inventories')
        return body['resource_provider_generation'], body['inventories']

    def traits(self, uuid):
        """(generation, set of trait names)."""
        body = self._get('resource_providers', uuid, 'traits')
        return body['resource_provider_generation'], set(body['traits'])

    def set_inventories(self, uuid, generation, inventories):
        """Replace the provider's inventories; its new generation.

        :raises GenerationConflict: when ``generation`` is stale.
        :raises ProviderInUse: when a resource class with allocations
            would go.
        """
        path = _path('resource_providers', uuid, 'inventories')
        return self._request('PUT', path, body={
            'resource_provider_generation': generation,
            'inventories': inventories,
        }).json()['resource_provider_generation']

    def set_traits(self, uuid, generation, traits):
        """Replace the provider's traits; its new generation.

        :raises GenerationConflict: when ``generation`` is stale.
        """
        path = _path('resource_providers', uuid, 'traits')
        return self._request('PUT', path, body={
            'resource_provider_generation': generation,
            'traits': sorted(traits),
        }).json()['resource_provider_generation']

    def ensure_trait(self, name):
        """Create the custom trait ``name`` unless it exists."""
        self._request('PUT', _path('traits', name), ok=(201, 204))

    def ensure_resource_class(self, name):
        """Create the custom resource class ``name`` unless it exists."""
        self._request('PUT', _path('resource_classes', name), ok=(201, 204))

    def delete_provider(self, uuid):
        """Delete a provider; False when it was gone already.

        :raises ProviderInUse: while it has allocations.
        """
        response = self._request(
            'DELETE', _path('resource_providers', uuid), ok=(204, 404))
        return response.status_code == 204
