"""Where the agent finds the image file a driver programs."""

import os
import re

from cyborg_clone.common import exception

# Ids become file names: no separators, no leading dot, so an id can never
# point outside the image directory.
_IMAGE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$')


def image_dir(conf):
    """Local images live in ``<state_path>/images``, one file per id,
    named after it (where the image store will download them)."""
    return os.path.join(conf.state_path, 'images')


def local_path(conf, image_id):
    """The path of image ``image_id``, whose base name is the id.

    :raises Invalid: when ``image_id`` cannot be a file name.
    """
    if not isinstance(image_id, str) or not _IMAGE_ID.match(image_id):
        raise exception.Invalid(
            reason='%r is not a valid image id.' % (image_id,))
    return os.path.join(image_dir(conf), image_id)
