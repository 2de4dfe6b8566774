"""Stage 1, load: files, folders and web addresses in, :class:`Document` values out.

Loaders are registered by file suffix in :data:`LOADERS`. Each takes the
decoded text and returns ``(content, metadata)``, like Pelican's readers.
RSS and Atom feeds (``.xml``, ``.rss``, ``.atom``, or any file or URL whose
content is a feed) give one document per entry (:mod:`digest.feeds`); an
http(s) source is downloaded (:mod:`digest.fetch`) and read as a feed or a
web page. Only this stage (and ``deliver``) touches the disk or the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .archive import ARCHIVE_FILE, Archive, from_json
from .errors import DigestError
from .model import Document

Loader = Callable[[str, str], tuple[str, dict[str, str]]]

FRONT_MATTER_KEYS = ("title", "date", "url", "author", "theme", "language", "source")
# A loader reports problems that do not stop the article (a front-matter key
# of the wrong type, an unknown key) under this key, one per line; ``load``
# turns them into warnings.
WARNINGS_KEY = "_warnings"


def load_text(text: str, source: str) -> tuple[str, dict[str, str]]:
    return text, {}


_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


@lru_cache(maxsize=1)
def _front_matter_loader() -> Any:
    """PyYAML's SafeLoader, but dates stay text: ``clean`` parses them, and an
    impossible date (2024-13-45) is a warning, not a crash in the YAML parser."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def load_markdown(text: str, source: str) -> tuple[str, dict[str, str]]:
    """Markdown with optional YAML front matter between ``---`` lines."""
    import yaml

    meta: dict[str, str] = {}
    m = _FRONT.match(text)
    if m:
        try:
            data: Any = yaml.load(m.group(1), Loader=_front_matter_loader())  # a SafeLoader
        except (ValueError, TypeError, RecursionError) as exc:  # e.g. deeply nested
            raise DigestError(
                f"{source}: invalid YAML front matter ({exc})",
                hint="check the values between the --- lines",
            ) from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 2}" if mark is not None else ""
            problem = getattr(exc, "problem", None)
            raise DigestError(
                f"{source}:{line} invalid YAML front matter" + (f" ({problem})" if problem else ""),
                hint="check the quoting and indentation between the --- lines",
            ) from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise DigestError(
                f"{source}: front matter must be key: value pairs",
                hint="write it as 'title: ...' lines between --- lines",
            )
        problems: list[str] = []
        for key, value in data.items():
            name = str(key).strip().lower()
            if name not in FRONT_MATTER_KEYS:
                problems.append(
                    f"{source}: unknown front matter key '{key}' ignored "
                    f"(known keys: {', '.join(FRONT_MATTER_KEYS)})"
                )
                continue
            if value is None:
                continue
            # several authors, as static site generators write them
            if name == "author" and _names_list(value):
                meta[name] = ", ".join(str(v).strip() for v in value if str(v).strip())
                continue
            if isinstance(value, (dict, list, set, tuple, bytes)):
                problems.append(
                    f"{source}: front matter '{name}' must be a single value, "
                    f"not a {'list' if not isinstance(value, dict) else 'mapping'}; ignored"
                )
                continue
            meta[name] = str(value)
        if problems:
            meta[WARNINGS_KEY] = "\n".join(problems)
        text = text[m.end() :]
    return _strip_markdown(text), meta


def _names_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPH = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def _strip_markdown(text: str) -> str:
    """Markdown to plain text, one paragraph a line: keep the words, drop the syntax."""
    out: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(" ".join(para))
            para.clear()

    in_code = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("```") or s.startswith("~~~"):
            in_code = not in_code
            flush()
            continue
        if in_code:
            continue
        if not s or s.startswith("!["):  # a blank line ends a paragraph; images are not text
            flush()
            continue
        block_start = re.match(r"^(#{1,6}\s+|([-*+]|\d+[.)])\s+)", s)
        s = re.sub(r"^#{1,6}\s+", "", s)
        s = re.sub(r"^(>\s?)+", "", s)
        s = re.sub(r"^([-*+]|\d+[.)])\s+", "", s)
        s = _MD_LINK.sub(r"\1", s)
        s = _MD_EMPH.sub(r"\2", s)
        if block_start:
            flush()
        para.append(s)
        if block_start and line.lstrip().startswith("#"):
            flush()
    flush()
    return "\n\n".join(out)


def load_html(text: str, source: str) -> tuple[str, dict[str, str]]:
    """An HTML page: main text and metadata extracted with trafilatura."""
    import warnings

    # The libraries under trafilatura warn through Python's warnings about
    # what they meet in pages ("tzname CST identified but not understood"):
    # printed on stderr, that is noise about someone else's markup.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _extract_html(text, source)


_LIST_ITEM = re.compile(r"(?m)^- (?=\S)")
MIN_PAGE_CHARS = 15  # letters and digits, at the least, of a page's article text


def _extract_html(text: str, source: str) -> tuple[str, dict[str, str]]:
    import trafilatura

    options: dict[str, Any] = {
        "include_comments": False,
        "include_tables": False,
        # trafilatura's deduplicate keeps a process-wide cache: after a few
        # extractions of the same page (preview rebuilds, --fetch-full, tests)
        # it returns nothing. Repeated blocks are clean()'s job anyway.
        "deduplicate": False,
    }
    # Precision first: less page furniture in the text. On some layouts it
    # finds nothing at all; the balanced mode then reads the article
    # (bench/extraction.py: every page read, text F1 0.89 -> 0.93 on
    # Readability's test pages, the other figures the same or better).
    content = trafilatura.extract(text, favor_precision=True, **options)
    if not content:
        content = trafilatura.extract(text, **options)
    meta: dict[str, str] = {}
    md = trafilatura.extract_metadata(text)
    if md is not None:
        for key, attr in (
            ("title", "title"),
            ("author", "author"),
            ("date", "date"),
            ("url", "url"),
            ("source", "sitename"),
            ("language", "language"),
        ):
            value = getattr(md, attr, None)
            if value:
                meta[key] = str(value)
    # trafilatura marks list items "- ": the marker is layout, not text
    content = _LIST_ITEM.sub("", content or "")
    # a page of controls ("Sign in", "Loading... Working...") is no article
    if sum(c.isalnum() for c in content) < MIN_PAGE_CHARS:
        raise DigestError(
            f"{source}: no article text found in this HTML page",
            hint="save the article page itself, not an index or a login page",
        )
    if "author" in meta:
        from .clean import tidy_author

        author = tidy_author(meta["author"])
        if author:
            meta["author"] = author
        else:
            del meta["author"]
    title = page_title(meta.get("title"), text, meta.get("source"))
    if title:
        meta["title"] = title
    day = page_date(meta.get("date"), text)
    if day:
        meta["date"] = day
    else:
        meta.pop("date", None)
    if "title" in meta:
        content = meta["title"] + "\n\n" + content
    return content, meta


# The publication date as a page states it for machines: schema.org's
# datePublished (JSON-LD or microdata) or Open Graph's article:published_time.
_PUBLISHED = re.compile(
    r"\"datePublished\"\s*:\s*\"(?P<ld>\d{4}-\d\d-\d\d)"
    r"|<[^>]*(?:itemprop|property|name)\s*=\s*[\"'](?:datePublished|article:published_time)[\"']"
    r"[^>]*(?:content|datetime)\s*=\s*[\"'](?P<attr>\d{4}-\d\d-\d\d)"
    r"|<[^>]*(?:content|datetime)\s*=\s*[\"'](?P<before>\d{4}-\d\d-\d\d)[^\"']*[\"'][^>]*"
    r"(?:itemprop|property|name)\s*=\s*[\"'](?:datePublished|article:published_time)[\"']",
    re.I,
)
_NEW_YEAR = re.compile(
    r"\bjan(?:uary|\.)?\s+0?1(?:st)?\b|\b0?1(?:st)?\s+jan|-01-01\b|\b0?1[/.]0?1[/.]\d", re.I
)
_MACHINE_DATE = re.compile(r"<time\b[^>]*\bdatetime\s*=\s*[\"'](\d{4}-\d\d-\d\d)", re.I)


def page_date(found: str | None, page: str) -> str | None:
    """The publication day (ISO): the page's own machine-readable
    ``datePublished`` when it has one, else ``found`` (trafilatura's guess,
    which can read a printed "10/04/16" day-first, or take an issue or
    update date), set right when a ``<time datetime>`` of the page shows
    the same day and month the other way round; None when the guess is a
    January 1 the page never states (a copyright year read as a date)."""
    import datetime as dt

    head = page[:500_000]
    m = _PUBLISHED.search(head)
    if m:
        stated = m.group("ld") or m.group("attr") or m.group("before")
        try:
            return dt.date.fromisoformat(stated).isoformat()
        except ValueError:
            pass
    if not found:
        return None
    try:
        day = dt.date.fromisoformat(found[:10])
    except ValueError:
        return found
    if (day.month, day.day) == (1, 1) and not _NEW_YEAR.search(head):
        return None  # a year alone ("© 1998–2015") read as January 1: no date
    if day.day <= 12 and day.day != day.month:
        for stated in _MACHINE_DATE.findall(head):
            try:
                other = dt.date.fromisoformat(stated)
            except ValueError:
                continue
            if (other.year, other.month, other.day) == (day.year, day.day, day.month):
                return other.isoformat()
    return found


_TITLE_ELEMENT = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_SITE_SEPARATOR = re.compile(r"\s+(?:[|·»:]|::|[-–—]{1,2})\s+")
_SITE_SEPARATOR_END = re.compile(r"\s+(?:[|·»:]|::|[-–—]{1,2})\s*$")


def page_title(found: str | None, page: str, site: str | None = None) -> str | None:
    """The headline: ``found`` (trafilatura's pick), unless it is short and
    has no word in common with the page's own ``<title>``, which then gives
    it, less the site name.

    A page without social metadata can lead trafilatura to a box's heading
    ("Most Popular", "Join the Discussion"), while the ``<title>`` element
    names the article: "Sofía Vergara and Nick Loeb's embryo drama taking a
    detour | Page Six". (``bench/extraction.py``.)
    """
    import html

    m = _TITLE_ELEMENT.search(page[:200_000])
    raw = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m.group(1))).split()) if m else ""
    own = _without_site(raw, site)
    if not found:
        return own or None
    if " ".join(found.split()) == raw:  # the <title> as it is, site name included
        return own or found
    from .nlp import stop_words

    stops = stop_words("en")
    ours = [w for w in _title_words(found) if w not in stops]
    theirs = _title_words(own)
    if len(theirs) < 3 or len(theirs) < len(ours) or len(ours) > BOX_HEADING_WORDS:
        return found
    # not one word in common (stop words aside): a heading of something else
    return own if not any(w in theirs for w in ours) else found


# A box's heading is short ("Most Popular", "Got Feedback? Click Here to Join
# the Discussion"); a longer headline that differs from the <title> is more
# likely the article's own, SEO titles being written apart from headlines.
BOX_HEADING_WORDS = 5


def _title_words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _without_site(title: str, site: str | None) -> str:
    """``title`` less a trailing site name: the part after the last separator
    when it is the site's name, or short (four words at most) beside a
    longer rest ("... uniform - AOL News")."""
    for _ in range(2):  # "Headline | Section | Site"
        parts = _SITE_SEPARATOR.split(title)
        if len(parts) < 2:
            return title
        last = _title_words(parts[-1])
        rest = _SITE_SEPARATOR_END.sub("", title[: len(title) - len(parts[-1])])
        longer = len(_title_words(rest)) > len(last)
        if not (longer and ((site and last == _title_words(site)) or len(last) <= 4)):
            return title
        title = rest
    return title


LOADERS: dict[str, tuple[str, Loader]] = {
    ".txt": ("text", load_text),
    ".text": ("text", load_text),
    ".md": ("markdown", load_markdown),
    ".markdown": ("markdown", load_markdown),
    ".html": ("html", load_html),
    ".htm": ("html", load_html),
}


LATIN_CODEPAGES = frozenset(
    """cp1250 cp1252 cp1254 cp1257 latin_1 iso8859_2 iso8859_3 iso8859_4 iso8859_9
    iso8859_10 iso8859_13 iso8859_14 iso8859_15 iso8859_16 cp437 cp850 cp852 cp858
    cp775 mac_latin2 mac_roman mac_iceland mac_turkish""".split()
)


def decode(data: bytes, source: str, truncated: bool = False) -> tuple[str, str | None]:
    """Bytes to text: UTF-8 (BOM allowed), else a detected encoding with a warning.

    ``truncated``: the bytes were cut at the size cap, so a character may be
    split at the end; that partial character is dropped.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if truncated:
            data = data[: len(data) // 2 * 2]
        text = data.decode("utf-16", errors="replace")
        return text, f"{source}: read as UTF-16 (byte order mark found)"
    try:
        if truncated:
            import codecs

            return codecs.getincrementaldecoder("utf-8")().decode(data, final=False), None
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding in LATIN_CODEPAGES:
        # Short Western text fits many Latin code pages equally well; the
        # detector's pick among them is arbitrary. Like browsers, prefer
        # windows-1252 when the bytes are valid in it.
        try:
            data.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding = "cp1252"
        text = data.decode(encoding, errors="replace")
    return text, f"{source}: not UTF-8; read as {encoding} (save it as UTF-8 to be sure)"


def count_files(sources: Iterable[str]) -> int:
    """About how many documents ``sources`` hold, without reading any: the
    files under the local paths (a feed counts one), to size a pool of
    workers before loading. Problems are left for :func:`load` to report."""
    from .fetch import is_url

    count = 0
    for src in sources:
        if is_url(src):
            continue
        try:
            if os.path.isdir(src):
                for _root, dirs, files in os.walk(src):
                    dirs[:] = [d for d in dirs if not d.startswith(".")]
                    count += sum(1 for f in files if not f.startswith("."))
            else:
                count += 1
        except OSError:
            continue
    return count


def iter_files(sources: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Expand folders (recursively, sorted, hidden files skipped) into files.

    Broken links and special files (pipes, devices) inside a folder are
    skipped with a warning; named on the command line they are errors.
    """
    files: list[Path] = []
    warnings: list[str] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            found: list[Path] = []
            try:
                entries = sorted(p.rglob("*"))
            except OSError as exc:
                raise DigestError(
                    f"{src}: cannot list the folder: {exc.strerror or exc}",
                    hint="check its permissions",
                ) from exc
            for f in entries:
                if any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                if f.is_file():
                    found.append(f)
                elif f.is_symlink() and not f.exists():
                    warnings.append(f"{relative_source(str(f))}: broken symbolic link; skipped")
                elif not f.is_dir():
                    warnings.append(
                        f"{relative_source(str(f))}: not a regular file (a pipe or device); skipped"
                    )
            if not found:
                warnings.append(f"{src}: folder has no files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif p.is_symlink() and not p.exists():
            raise DigestError(f"{src}: broken symbolic link", hint="point it at an existing file")
        elif p.exists():
            raise DigestError(
                f"{src}: not a regular file (a pipe or device)",
                hint="pass article files or folders",
            )
        else:
            raise DigestError(
                f"{src}: no such file or folder",
                hint="pass article files or folders, e.g. 'digest build seeds/'",
            )
    return files, warnings


@dataclass(frozen=True)
class Web:
    """How to download: the ``build.*`` network settings."""

    timeout: float = 20.0
    max_feed_bytes: int = 10_000_000
    fetch_full: bool = False  # download each feed entry's page for its full text
    user_agent: str = ""  # "" = digest's own
    # With fetch_full, entries the feed dates outside these days are not
    # downloaded (``--month`` would leave them out anyway); ISO dates, "" = open.
    since: str = ""
    until: str = ""

    def wanted(self, meta: tuple[tuple[str, str], ...]) -> bool:
        """Whether an entry with this metadata is worth downloading."""
        day = dict(meta).get("date", "")
        return not day or (
            (not self.since or day >= self.since) and (not self.until or day <= self.until)
        )


def load(
    sources: Iterable[str], max_bytes: int = 2_000_000, web: Web | None = None
) -> tuple[tuple[Document, ...], tuple[str, ...]]:
    """Read every supported file under ``sources`` and every http(s) source.

    Returns the documents and warnings. A bad file, feed or unreachable URL
    is skipped with a warning naming it; only a missing path is an error.
    """
    warnings: list[str] = []
    docs = tuple(iter_load(sources, warnings, max_bytes, web))
    return docs, tuple(warnings)


def iter_load(
    sources: Iterable[str],
    warnings: list[str],
    max_bytes: int = 2_000_000,
    web: Web | None = None,
    defer_pages: bool = False,
) -> Iterator[Document]:
    """:func:`load` one document at a time (a build hands them to its workers
    as they are read); warnings are appended to ``warnings``. A missing path
    is an error before anything is read or fetched.

    ``defer_pages``: an HTML file is read and decoded but its article not
    extracted (the slow part of loading: about 50 ms a page): it comes as a
    document of kind :data:`PAGE`, for :func:`finish` to complete where the
    work is done (a build's worker processes)."""
    from .fetch import is_url

    web = web or Web()
    sources = list(sources)
    # Each path is expanded once, up front: a missing path is an error before
    # anything is read or fetched.
    expanded = {src: iter_files([src]) for src in sources if not is_url(src)}
    return _iter_load(sources, expanded, warnings, max_bytes, web, defer_pages)


PAGE = "html-page"  # Document.kind of an HTML file whose article is not extracted yet


def finish(doc: Document) -> tuple[Document | None, tuple[str, ...]]:
    """``doc`` loaded in full when :func:`iter_load` deferred it (else as it
    is), and the warnings; ``None`` when it turns out not to be an article,
    the warning then saying why and that it was skipped."""
    if doc.kind != PAGE:
        return doc, ()
    warnings: list[str] = []
    try:
        loaded = _document(doc.text, doc.source, "html", load_html, warnings)
    except DigestError as exc:
        return None, (*warnings, _skipped(exc))
    return loaded, tuple(warnings)


def _iter_load(
    sources: list[str],
    expanded: dict[str, tuple[list[Path], list[str]]],
    warnings: list[str],
    max_bytes: int,
    web: Web,
    defer_pages: bool = False,
) -> Iterator[Document]:
    from .fetch import is_url

    for src in sources:
        if is_url(src):
            try:
                yield from _load_url(src, max_bytes, web, warnings)
            except DigestError as exc:
                warnings.append(_skipped(exc))
            continue
        files, folder_warnings = expanded[src]
        warnings.extend(folder_warnings)
        for path in files:
            source = relative_source(str(path))
            if _is_feed_file(path):
                try:
                    yield from _load_feed_file(path, source, web, warnings)
                except DigestError as exc:
                    warnings.append(_skipped(exc))
                continue
            entry = LOADERS.get(path.suffix.lower())
            if entry is None:
                known = sorted([*LOADERS, *FEED_SUFFIXES])
                warnings.append(
                    f"{source}: skipped, not an article format (supported: {', '.join(known)})"
                )
                continue
            kind, loader = entry
            try:
                doc = _load_one(
                    path, source, kind, loader, max_bytes, warnings, defer_pages and kind == "html"
                )
            except DigestError as exc:
                warnings.append(_skipped(exc))
                continue
            yield doc


def _skipped(exc: DigestError) -> str:
    return f"{exc.message}; skipped" + (f" ({exc.hint})" if exc.hint else "")


# --- feeds and the web -------------------------------------------------------

FEED_SUFFIXES = (".xml", ".rss", ".atom")


def _is_feed_file(path: Path) -> bool:
    """A feed by its suffix, or a file of no known format whose content is a feed."""
    from .feeds import looks_like_feed

    suffix = path.suffix.lower()
    if suffix in FEED_SUFFIXES:
        return True
    if suffix in LOADERS:
        return False
    try:
        with path.open("rb") as fh:
            return looks_like_feed(fh.read(2048))
    except OSError:
        return False


def _read_capped(path: Path, source: str, limit: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DigestError(f"{source}: cannot read: {reason}", hint="check its permissions") from exc
    if len(data) > limit:
        raise DigestError(
            f"{source}: feed larger than {limit} bytes",
            hint="raise build.max_feed_bytes if this feed is right",
        )
    return data


def _load_feed_file(path: Path, source: str, web: Web, warnings: list[str]) -> list[Document]:
    data = _read_capped(path, source, web.max_feed_bytes)
    return _feed_documents(data, source, None, web, warnings)


def _feed_documents(
    data: bytes, source: str, content_type: str | None, web: Web, warnings: list[str]
) -> list[Document]:
    """One document per entry; with ``web.fetch_full`` each entry's page is
    downloaded (four at a time, results in feed order) and its text used."""
    from .feeds import parse_feed

    entries = parse_feed(data, source, content_type)
    pages: list[tuple[str, dict[str, str]] | DigestError | None] = [None] * len(entries)
    if web.fetch_full:
        from concurrent.futures import ThreadPoolExecutor

        def full(link: str | None) -> tuple[str, dict[str, str]] | DigestError | None:
            if not link:
                return None
            try:
                return _fetch_page(link, web, origin=source)
            except DigestError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=4) as pool:
            pages = list(pool.map(full, [e.link if web.wanted(e.meta) else None for e in entries]))
    docs = []
    for i, (entry, page) in enumerate(zip(entries, pages, strict=True), 1):
        name = f"{source}#{i}"
        meta = dict(entry.meta)
        text = entry.text
        if isinstance(page, DigestError):
            warnings.append(
                f"{name}: full article not fetched: {page.message}; using the feed's text"
            )
        elif page is not None:
            page_text, page_meta = page
            text = page_text
            for key, value in page_meta.items():
                meta.setdefault(key, value)  # the feed's own metadata wins
        if not text.strip():
            warnings.append(
                f"{name}: entry {meta.get('title', '')!r} has no text; skipped "
                "(use --fetch-full to download its page)"
            )
            continue
        meta = check_meta(meta, name, warnings)  # a javascript: link never survives
        docs.append(Document(source=name, text=text, kind="feed", meta=tuple(sorted(meta.items()))))
    return docs


def _fetch_page(url: str, web: Web, origin: str) -> tuple[str, dict[str, str]]:
    """A web page's main text and metadata (the URL it was fetched from by
    default); ``url`` is a link in the feed ``origin`` (see ``fetch.check_link``)."""
    resp = _get(url, web, origin)
    content, meta = _page(resp.data, resp.charset, resp.content_type, url)
    meta.setdefault("url", url)
    return content, meta


def _get(url: str, web: Web, origin: str | None = None) -> Any:
    from .fetch import get

    kwargs: dict[str, Any] = {
        "timeout": web.timeout,
        "max_bytes": web.max_feed_bytes,
        "origin": origin,
    }
    if web.user_agent:
        kwargs["user_agent"] = web.user_agent
    return get(url, **kwargs)


def _page(
    data: bytes, charset: str | None, content_type: str, url: str
) -> tuple[str, dict[str, str]]:
    text = None
    if charset:
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        text, _ = decode(data, url)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if content_type == "text/plain":
        return load_text(text, url)
    if (
        content_type not in ("text/html", "application/xhtml+xml", "")
        and "<html" not in text[:4096].lower()
    ):
        raise DigestError(
            f"{url}: not a feed or a web page ({content_type})",
            hint="give the address of an RSS/Atom feed or an article page",
        )
    return load_html(text, url)


def _load_url(url: str, max_bytes: int, web: Web, warnings: list[str]) -> list[Document]:
    """A feed (one document per entry) or a single web page, by URL."""
    from .feeds import looks_like_feed

    resp = _get(url, web)
    if looks_like_feed(resp.data):
        return _feed_documents(resp.data, url, resp.content_type, web, warnings)
    data = resp.data
    if len(data) > max_bytes:
        data = data[:max_bytes]
        warnings.append(
            f"{url}: larger than {max_bytes} bytes; only the first {max_bytes} are used "
            "(raise build.max_article_bytes to read more)"
        )
    content, meta = _page(data, resp.charset, resp.content_type, url)
    meta.setdefault("url", resp.url)
    if not content.strip():
        raise DigestError(f"{url}: empty page", hint="check the address")
    meta = check_meta(meta, url, warnings)
    return [Document(source=url, text=content, kind="web", meta=tuple(sorted(meta.items())))]


# File signatures of formats people rename to .txt by mistake.
MAGIC = (
    (b"%PDF-", "a PDF document", "convert it to text first (e.g. pdftotext)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "remove it from the sources"),
    (b"\xff\xd8\xff", "a JPEG image", "remove it from the sources"),
    (b"GIF8", "a GIF image", "remove it from the sources"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.odt)", "save the article as .txt, .md or .html"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"\xd0\xcf\x11\xe0", "an old Word/Office document", "save the article as .txt"),
    (b"{\\rtf", "an RTF document", "save the article as .txt"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _load_one(
    path: Path,
    source: str,
    kind: str,
    loader: Loader,
    max_bytes: int,
    warnings: list[str],
    defer: bool = False,
) -> Document:
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DigestError(
            f"{source}: cannot read: {reason}", hint="check that it is a readable file"
        ) from exc
    truncated = len(data) > max_bytes
    if truncated:
        data = data[:max_bytes]
        warnings.append(
            f"{source}: larger than {max_bytes} bytes; only the first {max_bytes} are used "
            "(raise build.max_article_bytes to read more)"
        )
    for magic, what, hint in MAGIC:
        if data.startswith(magic):
            raise DigestError(f"{source}: {what}, not text", hint=hint)
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DigestError(f"{source}: binary file, not text", hint="remove it from the sources")
    text, warning = decode(data, source, truncated)
    if warning:
        warnings.append(warning)
    controls = len(_CONTROL.findall(text[:100_000]))
    if controls > max(8, len(text[:100_000]) // 20):
        raise DigestError(f"{source}: binary file, not text", hint="remove it from the sources")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if defer:  # read and checked; the article is extracted by finish()
        return Document(source=source, text=text, kind=PAGE)
    return _document(text, source, kind, loader, warnings)


def _document(text: str, source: str, kind: str, loader: Loader, warnings: list[str]) -> Document:
    """The document ``loader`` makes of a file's decoded ``text``, its metadata checked."""
    content, meta = loader(text, source)
    meta = check_meta(meta, source, warnings)
    if not content.strip():
        raise DigestError(f"{source}: empty article", hint="add text or remove the file")
    return Document(source=source, text=content, kind=kind, meta=tuple(sorted(meta.items())))


_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def check_meta(meta: dict[str, str], source: str, warnings: list[str]) -> dict[str, str]:
    """Drop metadata that must not be used, with a warning naming the key."""
    from .clean import parse_date, safe_url

    out = dict(meta)
    for line in out.pop(WARNINGS_KEY, "").splitlines():
        warnings.append(line)
    url = out.get("url")
    if url is not None and safe_url(url) is None:
        del out["url"]
        shown = url if len(url) <= 60 else url[:57] + "..."
        warnings.append(f"{source}: url {shown!r} dropped: only http(s) and mailto links are kept")
    date = out.get("date")
    if date is not None and parse_date(date) is None:
        del out["date"]
        warnings.append(
            f"{source}: date {date[:40]!r} is not a date; the article is treated as undated "
            "(write it as YYYY-MM-DD)"
        )
    language = out.get("language")
    if language is not None and not _LANG.match(language.strip()):
        del out["language"]
        warnings.append(
            f"{source}: language {language[:40]!r} is not a language code like 'en' or 'fr'; "
            "detected from the text instead"
        )
    return out


def relative_source(path: str) -> str:
    """A stable display path: relative to the current folder when inside it.

    ``digest.json`` records it, so a build gives the same bytes wherever the
    checkout lives.
    """
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def read_archive(out: str) -> Archive:
    """The issue record in ``<out>/archive.json`` (an empty one when there is none)."""
    path = Path(out) / ARCHIVE_FILE
    if not path.exists():
        return Archive()
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DigestError(
            f"{path}: cannot read the archive: {exc}", hint="check its permissions"
        ) from exc
    return from_json(text, relative_source(str(path)))
