"""The FPGA image API, in the style of a public cloud's:

* ``POST /v2/{project_id}/cloudservers/fpga_image``: build from a DCP;
* ``/v1/{project_id}/cloudservers/fpga_image``: register (POST), list
  (``GET .../detail``), delete (``DELETE .../{id}``), associate with a VM
  image (``POST|DELETE .../{id}/association``), query associations
  (``GET .../associations``).

Its bodies and ``{"error": {"code", "message"}}`` errors are that API's,
not Cyborg's, so these are plain Pecan handlers rather than WSME ones.
"""

import functools
import json
import math

import pecan

from cyborg_clone.api import fpga_image_errors
from cyborg_clone.api import fpga_image_params as params
from cyborg_clone.api import validation
from cyborg_clone.api.schemas import fpga_image as schema
from cyborg_clone.common import exception
from cyborg_clone.objects import fpga_image

RULE = 'cyborg:fpga_image:%s'
FpgaImage = fpga_image.FpgaImage
_MIB = 1024 * 1024


def handler(action, status=200):
    """Authorise ``action`` on the path's project, run the handler and
    render its result, or the error, in this API's format."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(self, *args, **kwargs):
            request = pecan.request
            if args:
                # Pecan hands path segments past the route's end on as
                # arguments: /{id}/association/x is no route.
                pecan.abort(404)
            try:
                request.policy.authorize(RULE % action,
                                         {'project_id': self.project_id})
                result = function(self, *args, **kwargs)
            except exception.CyborgCloneException as error:
                pecan.response.status = error.code
                return json.loads(fpga_image_errors.body(error.code,
                                                         str(error), error))
            pecan.response.status = status
            if status == 204:
                # Rendered through the json template even None becomes
                # "null"; a 204 carries no body at all.
                pecan.response.content_type = None
                return pecan.response
            return result
        return wrapper
    return decorate


# Pecan spreads a JSON body's keys into keyword arguments; the handlers
# below read and validate the body themselves, so they take and ignore
# those as ``**_spread``.


def _body(document):
    """The request's JSON body checked against ``document``."""
    try:
        body = json.loads(pecan.request.body or b'null')
    except ValueError:
        raise exception.Invalid(
            reason='the request body is not valid JSON.') from None
    return validation.schema(document, body)


def _no_other(params_given, *known):
    unknown = sorted(set(params_given) - set(known))
    if unknown:
        raise exception.Invalid(reason='unknown query parameter(s): %s.'
                                % ', '.join(unknown))


def _accepted(image):
    """The answer to a build or a registration: the new image's id and
    first status; the work goes on in a conductor."""
    return {'fpga_image': {'id': image.image_id, 'status': image.status}}


def image_view(image):
    """One item of ``fpgaimages``."""
    return {
        'id': image.image_id,
        'name': image.name,
        'description': image.description,
        'status': image.status,
        'size': (math.ceil(image.size_bytes / _MIB)
                 if image.size_bytes is not None else None),
        'createdAt': image.created_at.strftime('%Y-%m-%d %H:%M:%S'),
        'protected': image.protected,
        'message': image.message,
        'metadata': image.metadata,
        # Only builds (from a .tar DCP) write a log; registrations do not.
        'log_directory': ('%s:%s' % (image.bucket, image.log_directory)
                          if image.object_key.endswith('.tar') else None),
    }


def _generic():
    """A fresh generic Pecan handler answering 405, with the route's Allow
    header, to methods that have no ``.when`` of their own (each route
    needs its own function: Pecan keeps the method table on it)."""
    def not_allowed(self, *_args, **_kwargs):
        allowed = sorted(method for method in handlers
                         if method != 'DEFAULT')
        pecan.abort(405, headers={'Allow': ', '.join(allowed)})
    # Rendered as JSON, so that an Accept of application/json still gets
    # the 405 rather than a 406 about the error's own format.
    exposed = pecan.expose(generic=True, template='json')(not_allowed)
    handlers = exposed._pecan['generic_handlers']
    return exposed


class BuildController:
    """/v2/{project_id}/cloudservers/fpga_image"""

    def __init__(self, project_id):
        self.project_id = project_id

    index = _generic()

    @index.when(method='POST', template='json')
    @handler('create')
    def post(self, **_spread):
        body = _body(schema.create)['fpga_image']
        bucket, key = params.location('dcp_location', body['dcp_location'],
                                      ('.tar',))
        image = FpgaImage.create_build(
            self.project_id, params.name(body['name']),
            params.description(body.get('description')), bucket, key,
            params.log_directory(body.get('log_directory'), key))
        pecan.request.conductor_api.build_fpga_image(
            pecan.request.context, image_id=image.image_id)
        return _accepted(image)


class ImageController:
    """/v1/{project_id}/cloudservers/fpga_image/{fpga_image_id}"""

    def __init__(self, project_id, image_id):
        self.project_id = project_id
        self.image_id = image_id

    index = _generic()
    association = _generic()

    @index.when(method='DELETE', template='json')
    @handler('delete', status=204)
    def delete(self, **_spread):
        FpgaImage.start_delete(params.image_id(self.image_id),
                               self.project_id)
        pecan.request.conductor_api.delete_fpga_image(
            pecan.request.context, image_id=self.image_id)

    @association.when(method='POST', template='json')
    @handler('associate', status=204)
    def associate(self, **_spread):
        FpgaImage.associate(params.image_id(self.image_id), self.project_id,
                            self._vm_image())

    @association.when(method='DELETE', template='json')
    @handler('disassociate', status=204)
    def disassociate(self, **_spread):
        FpgaImage.disassociate(params.image_id(self.image_id),
                               self.project_id, self._vm_image())

    @staticmethod
    def _vm_image():
        return params.vm_image_id(_body(schema.association)['image']['id'])


class ImagesController:
    """/v1/{project_id}/cloudservers/fpga_image"""

    def __init__(self, project_id):
        self.project_id = project_id

    index = _generic()
    detail = _generic()
    associations = _generic()

    @index.when(method='POST', template='json')
    @handler('create')
    def post(self, **_spread):
        body = _body(schema.register)['fpga_image']
        bucket, key = params.location('location', body['location'],
                                      ('.bin', '.xclbin'))
        image = FpgaImage.register(
            self.project_id, params.name(body['name']),
            params.description(body.get('description')),
            params.metadata(body.get('metadata')), bucket, key)
        pecan.request.conductor_api.save_fpga_image(
            pecan.request.context, image_id=image.image_id)
        return _accepted(image)

    @detail.when(method='GET', template='json')
    def list_images(self, *remainder, **query):
        if remainder:
            pecan.abort(404)
        if query.get('fpga_image_id') is not None:
            return self._one(**query)
        return self._page(**query)

    @handler('get_one')
    def _one(self, **query):
        # One image asked for by id: paging does not apply.
        _no_other(query, 'fpga_image_id', 'page', 'size')
        image = FpgaImage.get(params.image_id(query['fpga_image_id']),
                              self.project_id)
        return {'count': 1, 'fpgaimages': [image_view(image)]}

    @handler('get_all')
    def _page(self, **query):
        _no_other(query, 'page', 'size')
        offset, limit = params.paging(query.get('page'), query.get('size'))
        count, images = FpgaImage.list(self.project_id, offset, limit)
        return {'count': count, 'fpgaimages': [image_view(i)
                                               for i in images]}

    @associations.when(method='GET', template='json')
    @handler('get_all')
    def list_associations(self, **query):
        _no_other(query, 'image_id', 'fpga_image_id', 'page', 'size')
        vm_image = query.get('image_id')
        image_id = query.get('fpga_image_id')
        offset, limit = params.paging(query.get('page'), query.get('size'))
        if vm_image is None and image_id is None:
            return {'associations': []}
        found = FpgaImage.associations(
            self.project_id,
            vm_image_id=None if vm_image is None
            else params.vm_image_id(vm_image),
            image_id=None if image_id is None else params.image_id(image_id),
            offset=offset, limit=limit)
        return {'associations': [
            {'image_id': vm, 'fpgaimages': [image_view(i) for i in images]}
            for vm, images in found]}

    @pecan.expose()
    def _lookup(self, image_id, *remainder):
        return ImageController(self.project_id, image_id), remainder


def route(version, project_id, remainder):
    """The controller for /{version}/{project_id}/cloudservers/fpga_image,
    or None when ``remainder`` is not that family's path."""
    if tuple(remainder[:2]) != ('cloudservers', 'fpga_image'):
        return None
    controller = (BuildController if version == 'v2'
                  else ImagesController)(project_id)
    return controller, remainder[2:]
