"""Hostile YAML shared by the tests of the budgets (issue #14)."""


def alias_bomb_items(indent):
    """Nine levels of nine aliases as list items at ``indent``: about 600 bytes that expand
    to 9**9 strings."""
    lines = [indent + '- &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append('%s- &a%d [%s]' % (indent, i, ','.join(['*a%d' % (i - 1)] * 9)))
    return '\n'.join(lines) + '\n'
