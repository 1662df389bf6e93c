"""Request validation: the one place for identifier rules and for running
the JSON schemas in ``api/schemas``."""

import uuid as uuid_lib

import jsonschema

from cyborg_clone.common import exception


def is_uuid(value):
    try:
        return str(uuid_lib.UUID(value)) == value.lower()
    except (TypeError, ValueError, AttributeError):
        return False


def uuid(value):
    """``value`` if it is a canonical UUID, else a 400 naming it."""
    if not is_uuid(value):
        raise exception.InvalidUUID(value=value)
    return value.lower()


def uuid_list(value, what):
    """A comma-separated list of UUIDs from a query string."""
    items = [item.strip() for item in value.split(',') if item.strip()]
    if not items:
        raise exception.Invalid(reason='%s must list at least one UUID.'
                                % what)
    return [uuid(item) for item in items]


def schema(document, body):
    """Raise a 400 naming the first place ``body`` breaks ``document``."""
    validator = jsonschema.Draft202012Validator(
        document,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is None:
        return body
    where = '/'.join(str(p) for p in error.absolute_path)
    # A schema may word the message per failing keyword ("x-messages"), or
    # once for all (description); jsonschema's own text is the fallback.
    reason = (error.schema.get('x-messages', {}).get(error.validator)
              or error.schema.get('description') or error.message)
    if where:
        reason = '%s: %s' % (where, reason)
    raise exception.Invalid(reason=reason)


def integer_param(value, name, minimum=1, maximum=None):
    """A positive integer from a query string."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise exception.Invalid(
            reason='%s must be an integer.' % name) from None
    if number < minimum or (maximum is not None and number > maximum):
        raise exception.Invalid(reason='%s must be between %s and %s.' % (
            name, minimum, maximum))
    return number
