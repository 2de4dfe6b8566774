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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .archive import ARCHIVE_FILE, Archive, from_json
from .errors import DigestError
from .model import Document

Loader = Callable[[str, str], tuple[str, dict[str, str]]]

FRONT_MATTER_KEYS = ("title", "date", "url", "author", "theme", "language", "source")


def load_text(text: str, source: str) -> tuple[str, dict[str, str]]:
    return text, {}


_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def load_markdown(text: str, source: str) -> tuple[str, dict[str, str]]:
    """Markdown with optional YAML front matter between ``---`` lines."""
    import yaml

    meta: dict[str, str] = {}
    m = _FRONT.match(text)
    if m:
        try:
            data: Any = yaml.safe_load(m.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 2}" if mark is not None else ""
            raise DigestError(
                f"{source}:{line} invalid YAML front matter",
                hint="check the quoting and indentation between the --- lines",
            ) from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise DigestError(
                f"{source}: front matter must be key: value pairs",
                hint="write it as 'title: ...' lines between --- lines",
            )
        for key, value in data.items():
            if value is None:
                continue
            meta[str(key).lower()] = str(value)
        text = text[m.end() :]
    return _strip_markdown(text), meta


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
    import trafilatura

    content = trafilatura.extract(
        text,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        deduplicate=True,
    )
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
    if not content:
        raise DigestError(
            f"{source}: no article text found in this HTML page",
            hint="save the article page itself, not an index or a login page",
        )
    if "title" in meta:
        content = meta["title"] + "\n\n" + content
    return content, meta


LOADERS: dict[str, tuple[str, Loader]] = {
    ".txt": ("text", load_text),
    ".text": ("text", load_text),
    ".md": ("markdown", load_markdown),
    ".markdown": ("markdown", load_markdown),
    ".html": ("html", load_html),
    ".htm": ("html", load_html),
}


def decode(data: bytes, source: str) -> tuple[str, str | None]:
    """Bytes to text: UTF-8 (BOM allowed), else a detected encoding with a warning."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), f"{source}: read as UTF-16 (byte order mark found)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding = "cp1252"
        text = data.decode(encoding, errors="replace")
    return text, f"{source}: not UTF-8; read as {encoding} (save it as UTF-8 to be sure)"


def iter_files(sources: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Expand folders (recursively, sorted, hidden files skipped) into files."""
    files: list[Path] = []
    warnings: list[str] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not found:
                warnings.append(f"{src}: folder has no files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif p.is_symlink():
            raise DigestError(f"{src}: broken symbolic link", hint="point it at an existing file")
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


def load(
    sources: Iterable[str], max_bytes: int = 2_000_000, web: Web | None = None
) -> tuple[tuple[Document, ...], tuple[str, ...]]:
    """Read every supported file under ``sources`` and every http(s) source.

    Returns the documents and warnings. A bad file, feed or unreachable URL
    is skipped with a warning naming it; only a missing path is an error.
    """
    from .fetch import is_url

    web = web or Web()
    sources = list(sources)
    paths = [s for s in sources if not is_url(s)]
    iter_files(paths)  # a missing path is an error before anything is read or fetched
    docs: list[Document] = []
    warnings: list[str] = []
    for src in sources:
        if is_url(src):
            try:
                docs.extend(_load_url(src, max_bytes, web, warnings))
            except DigestError as exc:
                warnings.append(_skipped(exc))
            continue
        files, folder_warnings = iter_files([src])
        warnings.extend(folder_warnings)
        for path in files:
            source = relative_source(str(path))
            if _is_feed_file(path):
                try:
                    docs.extend(_load_feed_file(path, source, web, warnings))
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
                doc = _load_one(path, source, kind, loader, max_bytes, warnings)
            except DigestError as exc:
                warnings.append(_skipped(exc))
                continue
            docs.append(doc)
    return tuple(docs), tuple(warnings)


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
                return _fetch_page(link, web)
            except DigestError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=4) as pool:
            pages = list(pool.map(full, [e.link for e in entries]))
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
        docs.append(Document(source=name, text=text, kind="feed", meta=tuple(sorted(meta.items()))))
    return docs


def _fetch_page(url: str, web: Web) -> tuple[str, dict[str, str]]:
    """A web page's main text and metadata (the URL it was fetched from by default)."""
    resp = _get(url, web)
    content, meta = _page(resp.data, resp.charset, resp.content_type, url)
    meta.setdefault("url", url)
    return content, meta


def _get(url: str, web: Web) -> Any:
    from .fetch import get

    kwargs: dict[str, Any] = {"timeout": web.timeout, "max_bytes": web.max_feed_bytes}
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
    return [Document(source=url, text=content, kind="web", meta=tuple(sorted(meta.items())))]


def _load_one(
    path: Path, source: str, kind: str, loader: Loader, max_bytes: int, warnings: list[str]
) -> Document:
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DigestError(f"{source}: cannot read: {reason}", hint="check its permissions") from exc
    if len(data) > max_bytes:
        data = data[:max_bytes]
        warnings.append(
            f"{source}: larger than {max_bytes} bytes; only the first {max_bytes} are used "
            "(raise build.max_article_bytes to read more)"
        )
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DigestError(f"{source}: binary file, not text", hint="remove it from the sources")
    text, warning = decode(data, source)
    if warning:
        warnings.append(warning)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    content, meta = loader(text, source)
    if not content.strip():
        raise DigestError(f"{source}: empty article", hint="add text or remove the file")
    return Document(
        source=source,
        text=content,
        kind=kind,
        meta=tuple(sorted(meta.items())),
    )


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
