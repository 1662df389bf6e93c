"""Placement trait names: how custom ones are built, and those we read back.

Drivers describe each deployable with traits, and the conductor puts them
on the deployable's resource provider. Two of them mean something to us:
``OWNER_CYBORG`` marks our providers, and the function id trait says which
function a card runs, so that a bind asking for that function needs no
load (``conductor/required_image``).
"""

import re

# Marks our providers in Placement: the conductor puts it on each, and
# drivers of devices nova could also manage report it themselves
# (upstream's GPU and PCI drivers do).
OWNER = 'OWNER_CYBORG'
CUSTOM_PREFIX = 'CUSTOM_'
_FUNCTION_ID = 'FPGA_FUNCTION_ID'
# What a function id trait starts with; the vendor and the id follow.
FUNCTION_ID_PREFIX = CUSTOM_PREFIX + _FUNCTION_ID + '_'

_JUNK = re.compile(r'[^A-Z0-9_]+')


def custom(*parts):
    """A valid custom Placement trait from free-form parts:
    ``custom('FPGA_PRODUCT_ID', '5000')`` -> ``CUSTOM_FPGA_PRODUCT_ID_5000``.
    Letters are upper-cased; anything else outside [A-Z0-9_] becomes ``_``.
    """
    name = '_'.join(_JUNK.sub('_', str(p).upper()).strip('_')
                    for p in parts if p)
    return CUSTOM_PREFIX + name


def function_id(vendor, function):
    """The trait of a card running ``function`` (an AFU id, an xclbin
    uuid, an AEI id, as the vendor's tools spell it, without dashes):
    ``CUSTOM_FPGA_FUNCTION_ID_<VENDOR>_<FUNCTION>``."""
    return custom(_FUNCTION_ID, vendor, function)


def normalize_function_id(value):
    """A function id as function id traits end with: without dashes,
    upper-cased; function ids compare in this form."""
    return str(value).replace('-', '').upper()


def runs_function(traits, function):
    """Whether one of ``traits`` is the function id trait of
    ``function`` (in any case, with or without dashes), whatever the
    vendor."""
    suffix = '_' + normalize_function_id(function)
    return any(trait.startswith(FUNCTION_ID_PREFIX) and trait.endswith(suffix)
               for trait in traits)
