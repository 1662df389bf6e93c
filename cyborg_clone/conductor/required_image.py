"""Which image a bind must load first, from the device profile group.

A group may ask for ``accel:bitstream_id`` (an image-store id, or the
Glance-style UUID of one) or ``accel:function_id`` (the function a card
must run: an AFU id, an xclbin uuid, an AEI id). Nothing is loaded when the
deployable already holds it; a function no deployable runs is loaded from
the active FPGA image whose metadata names it. ``accel:bitstream_id`` wins
when a group has both, as it names exactly one image. With [glance]
configured, Glance is the second place to look (``clients.image_source``).
"""

from cyborg_clone.clients import image_source
from cyborg_clone.clients import image_store
from cyborg_clone.common import exception
from cyborg_clone.common import trait_names
from cyborg_clone.objects import attribute
from cyborg_clone.objects import device_profile
from cyborg_clone.objects import fpga_image


def image_to_load(session, group, deployable, conf=None):
    """The image id to load onto ``deployable`` (its database row) for
    ``group``, or None when nothing must be loaded.

    :param conf: the conductor's; when it configures [glance], a function
        that no active FPGA image provides gives an
        ``image_source.GlanceFunction``, which the load looks up in Glance
        once this transaction is over.
    :raises Invalid: when the group names a malformed image id, or a
        function that no active FPGA image provides (and Glance is not
        configured).
    """
    bitstream = group.get(device_profile.BITSTREAM_KEY)
    if bitstream is not None:
        wanted = image_store.image_id_from(bitstream)
        # Loaded from Glance, the card reports Glance's spelling.
        held = deployable.bitstream_id in image_source.ids_of(wanted)
        return None if held else wanted
    asked = group.get(device_profile.FUNCTION_KEY)
    if asked is not None:
        function = trait_names.normalize_function_id(asked)
        if _runs(session, deployable.id, function):
            return None
        return _image_providing(session, asked, function, conf)
    return None


def _runs(session, deployable_id, function):
    return trait_names.runs_function(attribute.values_starting(
        session, deployable_id, trait_names.FUNCTION_ID_PREFIX), function)


def _image_providing(session, asked, function, conf):
    for image_id, metadata in fpga_image.active_with_function_id(session):
        provided = metadata['function_id']
        if (provided and trait_names.normalize_function_id(provided)
                == function):
            return image_id
    if conf is not None and image_source.glance_configured(conf):
        return image_source.GlanceFunction(asked)
    raise exception.Invalid(
        reason='no active FPGA image provides function %s.' % asked)
