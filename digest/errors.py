"""The one error type of digest.

The core raises :class:`DigestError` for every expected failure (bad input,
bad config, delivery problems); ``cli.py`` catches it in one place and prints
``error: <message>`` and, when given, ``hint: <hint>`` on stderr. ``details``
are further problems (say, every warning under ``--strict``), one line each;
``warnings``, set by a stage that fails after others warned, are printed
first, as warnings.
"""

from __future__ import annotations


class DigestError(Exception):
    """An expected failure, with a message for the user and an optional hint."""

    def __init__(
        self, message: str, hint: str | None = None, details: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details  # one line per underlying problem, printed before message
        # what went wrong but was not fatal before this (a build's warnings
        # when it fails late): printed first, as warnings
        self.warnings: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[type[DigestError], tuple[str, str | None]]:
        # keep the hint when the error crosses from a worker process
        return (type(self), (self.message, self.hint))

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message
