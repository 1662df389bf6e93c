"""Where a bitstream comes from: our image store first, then Glance.

Without a [glance] section only the image store is looked at, exactly as
before Glance was an image source. With one, an id that names no image of
the store is looked up in Glance, wherever image ids are accepted (device
profiles, binds, ``PATCH /v2/deployables/{uuid}/program``); so is a
function no active FPGA image provides (Glance images whose
``accel:function_id`` property equals it). A card loaded from Glance
reports the Glance id (a dashed UUID) as its ``bitstream_id``, as upstream
Cyborg does; one loaded from the store reports the store's 32-hex id.
"""

import dataclasses

from cyborg_clone.clients import glance
from cyborg_clone.clients import image_store
from cyborg_clone.common import exception


@dataclasses.dataclass(frozen=True)
class GlanceFunction:
    """The newest Glance image providing ``function_id``, still to be
    looked up: binds decide they need one inside a database transaction,
    and ask Glance only after it (``deployable_programming.load``)."""

    function_id: str

    def __str__(self):
        return 'for function %s' % self.function_id


def glance_configured(conf):
    """Whether ``conf``'s [glance] section lets us ask Glance."""
    return glance.GlanceClient(conf).configured


def ids_of(image_id):
    """The ids a card holding the image ``image_id`` may report: the
    store's 32-hex id and Glance's dashed UUID (one image, whichever source
    it was loaded from).

    :raises Invalid: when ``image_id`` is neither.
    """
    store_id = image_store.image_id_from(image_id)
    return store_id, glance.image_id_from(store_id)


class ImageSources:
    """The image store, then Glance when ``[glance]`` is configured."""

    def __init__(self, conf, store=None, glance_client=None):
        self.conf = conf
        self._store = store
        self.glance = glance_client or glance.GlanceClient.shared(conf)

    @property
    def store(self):
        if self._store is None:
            self._store = image_store.get_image_store(self.conf)
        return self._store

    def check(self, image_id):
        """Refuse an image id that names no loadable image. Without
        Glance configured nothing is checked: the agent reads the store at
        load, as before.

        :raises Invalid: when the id is malformed, names no image in the
            store nor in Glance, or names a Glance image that cannot be
            loaded.
        :raises ServiceUnavailable: when Glance cannot be asked.
        """
        try:
            self.to_load(image_id)
        except exception.ImageNotFound as error:
            raise exception.Invalid(reason=error.faultstring) from None

    def to_load(self, wanted):
        """``(image id, Glance image or None)``: what an agent is asked to
        load for ``wanted``, an image id (any UUID spelling) or a
        :class:`GlanceFunction`. The Glance image is None for an image of
        the store, whose id is then the store's; without Glance configured
        ``wanted`` is passed on as it is, for the agent to fetch.

        :raises ImageNotFound: when the image is in neither place.
        :raises Invalid: for a malformed id, a Glance image that cannot be
            loaded, or a function no Glance image provides.
        :raises ServiceUnavailable: when Glance cannot be asked.
        """
        if isinstance(wanted, GlanceFunction):
            found = self._providing(wanted.function_id)
            return found.id, found
        if not self.glance.configured:
            return wanted, None
        store_id = image_store.image_id_from(wanted)
        if self.store.exists(store_id):
            return store_id, None
        try:
            found = self.glance.image(store_id)
        except exception.ImageNotFound:
            raise exception.ImageNotFound(
                message='Image %s is in neither the image store nor Glance.'
                        % glance.image_id_from(store_id)) from None
        return found.id, found

    def _providing(self, function_id):
        found = self.glance.images_providing(function_id)
        if not found:
            raise exception.Invalid(
                reason='no active FPGA image nor Glance image provides '
                       'function %s.' % function_id)
        return found[0]
