"""Errors the CLI reports as one line on stderr."""

from __future__ import annotations


class UsageError(Exception):
    """A bad flag or argument found after parsing: exit code 2."""
