"""The one exception type for every problem found in a template, environment or parameters."""


def format_path(parts):
    """Render a path tuple as ``resources.web.properties.networks[0].port``."""
    out = ''
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += '[%d]' % part
        elif out:
            out += '.%s' % part
        else:
            out = str(part)
    return out


class TemplateError(Exception):
    """A template, environment or parameter value is invalid.

    ``path`` is a tuple of keys and list indexes inside the document, ``line`` the
    1-based line in ``filename`` where that path starts, when known.
    """

    def __init__(self, message, path=(), line=None, filename=None):
        super().__init__(message)
        self.message = message
        self.path = tuple(path or ())
        self.line = line
        self.filename = filename

    def locate(self, filename=None, source_map=None):
        """Fill in the file name and line from a source map, keeping what is already set."""
        if self.filename is None and filename is not None:
            self.filename = filename
        if self.line is None and source_map is not None and self.path:
            self.line = source_map.line_of(self.path)
        return self

    def __str__(self):
        where = []
        if self.filename:
            where.append(self.filename if self.line is None
                         else '%s:%d' % (self.filename, self.line))
        elif self.line is not None:
            where.append('line %d' % self.line)
        if self.path:
            where.append(format_path(self.path))
        if where:
            return '%s: %s' % (': '.join(where), self.message)
        return self.message
