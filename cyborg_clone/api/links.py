"""Links in responses point where the service is really served."""


def base_url(request):
    """``[api]public_endpoint``, else the request's host URL and script
    name (so the service works at / and under a prefix like /accelerator).
    """
    public = request.conf.api.public_endpoint
    if public:
        return public.rstrip('/')
    return (request.host_url + request.script_name).rstrip('/')


def make(request, collection, ident, bookmark=False, base=None):
    """Links for one item: ``self`` (versioned) and optionally
    ``bookmark`` (unversioned). ``base``: base_url(request), when the
    caller already has it (a list computes it once for all its items)."""
    if base is None:
        base = base_url(request)
    links = [{'href': '%s/v2/%s/%s' % (base, collection, ident),
              'rel': 'self'}]
    if bookmark:
        links.append({'href': '%s/%s/%s' % (base, collection, ident),
                      'rel': 'bookmark'})
    return links
