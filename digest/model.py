"""The plain data model every stage passes along.

All classes are frozen dataclasses; stages make changed copies with
:func:`dataclasses.replace`. Templates see only these values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """What a loader read: raw text plus whatever metadata the format carried."""

    source: str
    text: str
    kind: str  # "text", "markdown", "html", ...
    meta: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str | None:
        for k, v in self.meta:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class Link:
    """Where else a story ran: a label (publisher, site or file) and its URL if known."""

    label: str
    url: str | None = None


@dataclass(frozen=True)
class Article:
    """One cleaned article, later summarized and given a theme."""

    source: str
    title: str
    paragraphs: tuple[str, ...]
    url: str | None = None
    date: dt.date | None = None
    author: str | None = None
    publisher: str | None = None
    language: str = "en"
    theme: str | None = None  # set by front matter (override) or by classify
    theme_score: float = 0.0
    scores: tuple[tuple[str, float], ...] = ()  # score for every theme
    theme_fit: float = 0.0  # match with the theme's own definition alone (vs classify.threshold)
    reasons: tuple[str, ...] = ()  # the words that decided the theme
    summary: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # lines clean() dropped, for `--debug` and tests
    also_in: tuple[Link, ...] = ()  # the same story from other sources (dedupe)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Theme:
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    theme: str
    items: tuple[Article, ...]
    description: str = ""


@dataclass(frozen=True)
class Digest:
    """The newsletter: what the templates render."""

    title: str
    period: str
    intro: str
    sections: tuple[Section, ...]
    language: str = "en"
    issue: int | None = None  # the issue number, kept in the archive (out/archive.json)
    key: str = ""  # the issue's month, "2024-11"; "" when nothing is dated

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(a for s in self.sections for a in s.items)


@dataclass(frozen=True)
class Rendered:
    """The built files, in memory, by file name."""

    files: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # e.g. what was cut to fit the size budget

    def get(self, name: str) -> bytes:
        for n, data in self.files:
            if n == name:
                return data
        raise KeyError(name)
