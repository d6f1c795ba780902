"""Showing user input in messages without letting it act on a terminal or a log.

A stack, resource or output name (or any text a user typed) echoed in an error reaches a
terminal or a log line as it is: an ANSI escape in it could rewrite the screen, a newline
forge a line of its own. ``shown`` escapes the control characters only (C0, DEL, C1, line
and paragraph separators, bidirectional overrides), the way ``repr`` spells them, and
leaves every other character (accents, CJK, emoji) as given.
"""

import re

_CONTROL = re.compile('[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e'
                      '\u2066-\u2069]')
# the same, less the line feed and tab a multi-line message may hold itself
_CONTROL_BUT_LINES = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029'
                                '\u202a-\u202e\u2066-\u2069]')
_NAMED = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}


def _escape(match):
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return '\\x%02x' % code if code < 0x100 else '\\u%04x' % code


def shown(value):
    """``value`` as text for a message, its control characters escaped (``\\x1b``, ``\\n``,
    ``\\u202e``)."""
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub(_escape, text)


def shown_message(message):
    """A whole message for a terminal or an API answer: control characters escaped except
    the line feeds and tabs that lay out a multi-line message."""
    text = message if isinstance(message, str) else str(message)
    return _CONTROL_BUT_LINES.sub(_escape, text)
