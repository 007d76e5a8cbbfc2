"""Errors shared by every stage.

`InputError` is a problem with the user's input that stops the command with one line
and exit code 2 (`publish.cli`); any stage may raise it, so it lives below them all.
"""


class InputError(Exception):
    """A problem with the user's input that stops the command (exit code 2)."""


class StageContractBroken(Exception):
    """A stage wrote or left a table that `publish.stage_tables` does not declare, or
    other columns than declared: a programming error, found by the tests."""
