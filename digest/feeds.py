"""RSS and Atom feeds, parsed with feedparser: one article per entry.

Pure functions over bytes (the load stage reads or downloads them). An
entry's text is its full content when the feed carries it, else its
summary; HTML becomes plain text (paragraphs kept, tags, scripts and
styles dropped, entities decoded), so no markup from a feed ever reaches a
template.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from .errors import DigestError

_ROOT = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]")


def looks_like_feed(data: bytes) -> bool:
    """True when the first root element is ``<rss>``, ``<feed>`` or ``<rdf:RDF>``."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    # skip the XML declaration, comments and processing instructions
    head = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", head, flags=re.S).lstrip()
    return bool(_ROOT.match(head))


_BLOCK_TAGS = frozenset(
    """p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote pre section article header footer
    table tr figure figcaption hr dd dt dl""".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg"})


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """HTML to plain text, one paragraph a line pair; plain text passes through."""
    if "<" not in markup:
        return _tidy(html.unescape(markup))
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return _tidy("".join(parser.parts))


def _tidy(text: str) -> str:
    paras = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paras if p)


@dataclass(frozen=True)
class Entry:
    """One feed entry as an article to be: its text and metadata."""

    text: str  # plain text; "" when the feed has only a title
    meta: tuple[tuple[str, str], ...]
    link: str | None


def parse_feed(data: bytes, source: str, content_type: str | None = None) -> list[Entry]:
    """The entries of an RSS or Atom feed, in feed order.

    Raises ``DigestError`` when the bytes are not a feed at all.
    """
    import feedparser

    headers = {"content-type": content_type} if content_type else None
    # Always bytes: feedparser treats a str as a URL or a file name.
    parsed: Any = feedparser.parse(bytes(data), response_headers=headers)
    if not parsed.entries:
        if parsed.get("bozo") and not parsed.feed:
            reason = parsed.get("bozo_exception")
            raise DigestError(
                f"{source}: not a valid RSS or Atom feed ({reason})",
                hint="check that this is the feed's address or file",
            )
        raise DigestError(f"{source}: the feed has no entries", hint="remove it from the sources")
    feed = parsed.feed
    publisher = html_to_text(str(feed.get("title") or "")) or None
    language = str(feed.get("language") or "")
    entries = []
    for item in parsed.entries:
        meta: dict[str, str] = {}
        title = html_to_text(str(item.get("title") or ""))
        if title:
            meta["title"] = title
        link = str(item.get("link") or "") or None
        if link:
            meta["url"] = link
        when = item.get("published_parsed") or item.get("updated_parsed")
        if when:
            meta["date"] = dt.date(when.tm_year, when.tm_mon, when.tm_mday).isoformat()
        author = entry_author(item)
        if author:
            meta["author"] = author
        source_title = (item.get("source") or {}).get("title")
        pub = html_to_text(str(source_title)) if source_title else publisher
        if pub:
            meta["source"] = pub
        if language:
            meta["language"] = language
        entries.append(Entry(text=entry_text(item), meta=tuple(sorted(meta.items())), link=link))
    return entries


def entry_author(item: Any) -> str:
    """The entry's authors by name (", " between them). RSS 2.0 writes an
    author as an e-mail address with the name in brackets
    ("jane@example.org (Jane Doe)"): the name is shown, never the address;
    an address alone gives no author."""
    names = [html_to_text(str(a.get("name") or "")) for a in item.get("authors") or []]
    names = [n for n in names if n and "@" not in n]
    if not names:
        raw = html_to_text(str(item.get("author") or ""))
        if raw and "@" not in raw:
            names = [raw]
    return ", ".join(dict.fromkeys(names))


def entry_text(item: Any) -> str:
    """The full content when the entry has it (the longest part), else its summary."""
    contents = [html_to_text(str(c.get("value") or "")) for c in item.get("content") or []]
    best = max(contents, key=len, default="")
    summary = html_to_text(str(item.get("summary") or ""))
    return best if len(best) >= len(summary) else summary
