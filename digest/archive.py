"""The series: issue numbers, the archive index and its Atom feed.

Pure functions. The record of every issue lives in ``<out>/archive.json``
(read by ``load.read_archive``, written by ``deliver``): a month keeps the
number it was first given, however often it is rebuilt, and a new month
gets the next number. ``digest build --archive`` also writes the issue into
``<out>/YYYY-MM/``, ``<out>/index.html`` (every archived issue, newest
first) and ``<out>/feed.xml`` (an Atom feed of those issues).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, replace
from typing import Any

from .errors import DigestError
from .model import Digest

ARCHIVE_FILE = "archive.json"
INDEX_TEMPLATE = "archive.html.j2"
ISSUE_PAGE = "digest.html"


@dataclass(frozen=True)
class IssueRecord:
    """One issue as the archive remembers it."""

    key: str  # "2024-11"
    number: int
    title: str = ""
    period: str = ""
    updated: str = ""  # ISO date of the newest article: the issue's date in the feed
    articles: tuple[str, ...] = ()  # the titles, in order
    archived: bool = False  # its files are in <out>/<key>/


@dataclass(frozen=True)
class Archive:
    issues: tuple[IssueRecord, ...] = ()

    def get(self, key: str) -> IssueRecord | None:
        return next((i for i in self.issues if i.key == key), None)

    def number_for(self, key: str) -> int:
        """The month's number: the one it has, else one more than the highest."""
        known = self.get(key)
        if known is not None:
            return known.number
        return max((i.number for i in self.issues), default=0) + 1

    def with_issue(self, record: IssueRecord) -> Archive:
        """This archive with ``record`` added or replacing the same month."""
        old = self.get(record.key)
        if old is not None and old.archived and not record.archived:
            record = replace(record, archived=True)  # a plain rebuild keeps the page listed
        rest = [i for i in self.issues if i.key != record.key]
        return Archive(tuple(sorted([*rest, record], key=lambda i: i.key)))

    def newest_first(self) -> list[IssueRecord]:
        return sorted((i for i in self.issues if i.archived), key=lambda i: i.key, reverse=True)


def record_of(digest: Digest, archived: bool) -> IssueRecord:
    dates = [a.date for a in digest.articles if a.date]
    return IssueRecord(
        key=digest.key,
        number=digest.issue or 0,
        title=digest.title,
        period=digest.period,
        updated=max(dates).isoformat() if dates else f"{digest.key}-01",
        articles=tuple(a.title for a in digest.articles),
        archived=archived,
    )


def to_json(archive: Archive) -> str:
    data = {
        "issues": [
            {
                "key": i.key,
                "number": i.number,
                "title": i.title,
                "period": i.period,
                "updated": i.updated,
                "articles": list(i.articles),
                "archived": i.archived,
            }
            for i in archive.issues
        ]
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def from_json(text: str, where: str) -> Archive:
    """Parse ``archive.json``; anything malformed is an error naming the file."""
    try:
        data: Any = json.loads(text)
        issues = []
        for raw in data["issues"]:
            key = str(raw["key"])
            number = raw["number"]
            if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                raise ValueError(f"issue {key!r} has no valid number")
            issues.append(
                IssueRecord(
                    key=key,
                    number=number,
                    title=str(raw.get("title", "")),
                    period=str(raw.get("period", "")),
                    updated=str(raw.get("updated", "")),
                    articles=tuple(str(t) for t in raw.get("articles", [])),
                    archived=bool(raw.get("archived", False)),
                )
            )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DigestError(
            f"{where}: not a valid digest archive ({exc})",
            hint="restore it from a backup; it holds the issue numbers",
        ) from exc
    numbers = [i.number for i in issues]
    if len(set(numbers)) != len(numbers):
        raise DigestError(
            f"{where}: two issues share a number", hint="fix the numbers by hand, then rebuild"
        )
    return Archive(tuple(sorted(issues, key=lambda i: i.key)))


def issue_url(base_url: str, key: str) -> str:
    """The web address of an issue's page under ``archive.base_url``."""
    return f"{base_url.rstrip('/')}/{key}/{ISSUE_PAGE}"


def index_html(archive: Archive, newsletter: Any, base_url: str, templates_dir: str | None) -> str:
    """``index.html``: every archived issue, newest first (a template users may override)."""
    from .render import _render, environments

    html_env, _ = environments(templates_dir or None)
    issues = [
        {
            "number": i.number,
            "title": i.title,
            "period": i.period,
            "key": i.key,
            "updated": i.updated,
            "articles": i.articles,
            "href": f"{i.key}/{ISSUE_PAGE}",
        }
        for i in archive.newest_first()
    ]
    context = {
        "newsletter": newsletter,
        "issues": issues,
        "feed_href": "feed.xml",
        "base_url": base_url,
    }
    return _render(html_env, INDEX_TEMPLATE, context)


ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(archive: Archive, newsletter: Any, base_url: str) -> bytes:
    """``feed.xml``: an Atom feed with one entry per archived issue, newest first.

    Links are absolute under ``base_url``, else relative to the feed. Ids are
    stable: the same issue always has the same id.
    """
    import xml.etree.ElementTree as ET

    ET.register_namespace("", ATOM)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    issues = archive.newest_first()
    name = str(newsletter.name)
    base = base_url.rstrip("/") + "/" if base_url else ""
    feed = ET.Element(f"{{{ATOM}}}feed")
    el(feed, "title", name)
    el(feed, "id", _urn(name, "feed"))
    el(feed, "updated", _stamp(max((i.updated for i in issues), default="1970-01-01")))
    el(feed, "link", rel="self", href=f"{base}feed.xml")
    el(feed, "link", rel="alternate", type="text/html", href=f"{base}index.html")
    el(el(feed, "author"), "name", name)
    el(feed, "generator", "digest")
    for i in issues:
        entry = el(feed, "entry")
        el(entry, "title", i.title or f"{name} #{i.number}")
        el(entry, "id", _urn(name, i.key))
        el(entry, "updated", _stamp(i.updated))
        el(entry, "link", rel="alternate", type="text/html", href=f"{base}{i.key}/{ISSUE_PAGE}")
        summary = f"Issue {i.number}, {i.period}: " if i.period else f"Issue {i.number}: "
        el(entry, "summary", summary + "; ".join(i.articles), type="text")
    ET.indent(feed)
    xml: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return xml + b"\n"


def _urn(name: str, key: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"digest:{name}:{key}").urn


def _stamp(day: str) -> str:
    try:
        d = dt.date.fromisoformat(day[:10])
    except ValueError:
        d = dt.date(1970, 1, 1)
    return f"{d.isoformat()}T00:00:00Z"
