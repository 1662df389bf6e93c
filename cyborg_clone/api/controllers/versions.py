"""Version documents served at / and /v2."""

from cyborg_clone.api import links
from cyborg_clone.api import microversion


def version_document(request, version_id):
    return {
        'id': version_id,
        'status': 'CURRENT',
        'min_version': str(microversion.MIN_VERSION),
        'max_version': str(microversion.MAX_VERSION),
        'links': [{'href': links.base_url(request) + '/v2', 'rel': 'self'}],
    }


def root_document(request):
    version = version_document(request, 'v2')
    return {
        'name': 'OpenStack Cyborg API (cyborg_clone)',
        'description': 'Accelerator management for OpenStack: device '
                       'profiles, accelerator requests, devices, '
                       'deployables and attributes.',
        'versions': [version],
        'default_version': version,
    }
