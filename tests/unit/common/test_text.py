"""User input echoed in errors never reaches a terminal raw (issue #14): control
characters are escaped, everything else is kept."""

import json

import pytest

from heat_taskflow.api import faults
from heat_taskflow.common.text import shown, shown_message
from heat_taskflow.engine import exceptions

EVIL = 'web\x1b[2J\x1b]0;owned\x07\nFAKE: line\r\u202egnp.exe\x00'


def test_shown_escapes_control_characters_only():
    assert shown(EVIL) == 'web\\x1b[2J\\x1b]0;owned\\x07\\nFAKE: line\\r\\u202egnp.exe\\x00'
    assert shown('café-栈-🙂 "q" \\ ok') == 'café-栈-🙂 "q" \\ ok'
    assert shown(42) == '42'
    assert shown('\x85\x9b31m\x7f') == '\\x85\\x9b31m\\x7f'


def test_shown_message_keeps_the_layout_of_a_message():
    assert shown_message('one\n\ttwo\x1b[0m\r') == 'one\n\ttwo\\x1b[0m\\r'


@pytest.mark.parametrize('error', [
    exceptions.StackNotFound(EVIL),
    exceptions.StackExists(EVIL),
    exceptions.ResourceNotFound(EVIL, EVIL),
    exceptions.OutputNotFound('s', EVIL),
    exceptions.EventNotFound('s', EVIL),
    exceptions.ActionInProgress(EVIL, 'UPDATE'),
], ids=lambda e: type(e).__name__)
def test_engine_errors_escape_the_names_they_echo(error):
    text = str(error)
    assert '\\x1b[2J' in text and '\\n' in text
    assert not any(c in text for c in '\x1b\x07\n\r\x00\u202e')


def test_api_fault_messages_are_escaped():
    resp = faults.response_for(exceptions.InvalidInput('bad %s' % EVIL))
    message = json.loads(resp.body)['error']['message']
    assert message.startswith('bad web\\x1b[2J')
    assert '\x1b' not in message and '\r' not in message
