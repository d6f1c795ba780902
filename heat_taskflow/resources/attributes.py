"""Attributes schemas as data, the "show" attribute every resource has, and path selection."""

from collections.abc import Mapping

SHOW = 'show'


class Schema:
    """The schema of one attribute: what it means and the type of its value."""

    TYPES = (STRING, INTEGER, NUMBER, BOOLEAN, LIST, MAP) = (
        'string', 'integer', 'number', 'boolean', 'list', 'map')

    def __init__(self, description=None, type=None):
        if type is not None and type not in self.TYPES:
            raise ValueError('unknown attribute type "%s"; valid types: %s'
                             % (type, ', '.join(self.TYPES)))
        self.description = description
        self.type = type

    def to_dict(self):
        """The schema as plain data (for showing a resource type)."""
        out = {'description': self.description}
        if self.type is not None:
            out['type'] = self.type
        return out

    def __repr__(self):
        return 'Schema(%r)' % (self.to_dict(),)


SHOW_SCHEMA = Schema('Detailed information about the resource.', Schema.MAP)


def with_show(schema):
    """An attributes schema with Heat's ``show`` attribute added (unless it defines its own)."""
    out = {SHOW: SHOW_SCHEMA}
    out.update(schema or {})
    return out


def select(value, path):
    """Follow ``path`` (map keys, list indexes) into an attribute value; None when absent.

    As in Heat's get_attr, an index may be given as a string of digits.
    """
    for key in path:
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, (list, tuple)) and not isinstance(value, str):
            try:
                value = value[int(key)]
            except (ValueError, TypeError, IndexError):
                return None
        else:
            return None
    return value
