"""Masking the values of hidden parameters in text that leaves a stack definition.

Heat masks a hidden parameter where parameters are shown (``Parameters.masked``). Messages
built from resolved values (a type error quoting a property, ``list_join`` quoting an item,
a resource's failure) can quote the value itself; ``Redactor`` replaces every occurrence
of each hidden value in such text by ``******`` before the text becomes an error, a status
reason, an event or a log line.

What counts as an occurrence: the value as text, and for lists and maps their JSON and
Python forms and each string inside them (a message may quote one item); for every form
also its JSON-escaped and repr-escaped spelling.

Values shorter than ``MIN_LENGTH`` characters are not searched for in free text: masking
every "a" or "10" in a message would garble file names, line numbers and words while
protecting nothing (three characters are guessed in a few thousand tries). They stay
masked wherever parameters are displayed.
"""

import json

MASK = '******'
MIN_LENGTH = 4


def _forms(value):
    """The spellings under which ``value`` (a parameter value, raw or typed) may be quoted."""
    out = set()
    if value is None or isinstance(value, bool):
        return out
    if isinstance(value, (str, int, float)):
        out.add(str(value))
    elif isinstance(value, (list, tuple, dict)):
        out.add(repr(value))
        for sort in (False, True):
            try:
                out.add(json.dumps(value, sort_keys=sort))
            except (TypeError, ValueError):
                pass
        todo = [value]
        while todo:
            item = todo.pop()
            if isinstance(item, dict):
                todo.extend(item.values())
            elif isinstance(item, (list, tuple)):
                todo.extend(item)
                if all(isinstance(i, str) for i in item):
                    out.add(','.join(item))
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                out.add(str(item))
    escaped = set()
    for text in out:
        escaped.add(json.dumps(text)[1:-1])
        escaped.add(repr(text)[1:-1])
    return {t for t in out | escaped if len(t) >= MIN_LENGTH}


class Redactor:
    """Replaces every known spelling of the hidden values in a text by ``******``."""

    def __init__(self, values=()):
        forms = set()
        for value in values:
            forms |= _forms(value)
        # longest first, so that a value containing another is masked whole
        self.secrets = tuple(sorted(forms, key=lambda t: (-len(t), t)))

    def __bool__(self):
        return bool(self.secrets)

    def __call__(self, text):
        """``text`` with every hidden value masked (non-text is returned as it is)."""
        if not self.secrets or not isinstance(text, str):
            return text
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def exception(self, exc):
        """Mask the message of a TemplateError (or any exception's args) in place."""
        if not self.secrets:
            return exc
        if hasattr(exc, 'message') and isinstance(exc.message, str):
            exc.message = self(exc.message)
        exc.args = tuple(self(a) for a in exc.args)
        return exc


NONE = Redactor()


def for_definition(definition):
    """The Redactor of a StackDefinition: each hidden parameter's value, as given and typed.

    Reads the raw values (user values, environment parameters and defaults, the schema's
    default) and converts each itself, so it works even when the parameters are invalid.
    """
    template = definition.template
    try:
        schemas = template.parameter_schemas
    except Exception:  # noqa: BLE001 - an unparsable parameters section has no values yet
        return NONE
    env = definition.environment
    return for_parameters(schemas, definition.user_params, env.params, env.param_defaults)


def _hidden(schema):
    """(hidden, default, convert) of a ParamSchema or of a raw parameters-section entry."""
    if isinstance(schema, dict):
        flag = schema.get('hidden', False)
        hidden = flag is True or (isinstance(flag, str) and flag.lower() == 'true')
        return hidden, schema.get('default'), None
    if not getattr(schema, 'hidden', False):
        return False, None, None
    return True, schema.default, schema.convert


def for_parameters(schemas, *sources):
    """The Redactor of the hidden parameters in ``schemas`` (``{name: ParamSchema}``, or a
    template's raw parameters section when it cannot be parsed): the values ``sources``
    (maps of given values; every one is masked) and the defaults give them,
    as given and typed."""
    values = []
    for name, schema in (schemas or {}).items():
        hidden, default, convert = _hidden(schema)
        if not hidden:
            continue
        raws = [src[name] for src in sources if isinstance(src, dict) and name in src]
        if default is not None:
            raws.append(default)
        for raw in raws:
            values.append(raw)
            if convert is None:
                continue
            try:
                values.append(convert(raw))
            except Exception:  # noqa: BLE001 - an invalid value is masked as given
                pass
    return Redactor(values) if values else NONE
