"""Stage 1, load: files and folders in, :class:`Document` values out.

Loaders are registered by file suffix in :data:`LOADERS`. Each takes the
decoded text and returns ``(content, metadata)``, like Pelican's readers.
Only this stage (and ``deliver``) touches the disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

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


def load(
    sources: Iterable[str], max_bytes: int = 2_000_000
) -> tuple[tuple[Document, ...], tuple[str, ...]]:
    """Read every supported file under ``sources``.

    Returns the documents and warnings. A bad file is skipped with a warning
    naming it; only a missing source is an error.
    """
    files, warnings = iter_files(sources)
    docs: list[Document] = []
    for path in files:
        source = relative_source(str(path))
        entry = LOADERS.get(path.suffix.lower())
        if entry is None:
            warnings.append(
                f"{source}: skipped, not an article format "
                f"(supported: {', '.join(sorted(LOADERS))})"
            )
            continue
        kind, loader = entry
        try:
            doc = _load_one(path, source, kind, loader, max_bytes, warnings)
        except DigestError as exc:
            warnings.append(f"{exc.message}; skipped" + (f" ({exc.hint})" if exc.hint else ""))
            continue
        docs.append(doc)
    return tuple(docs), tuple(warnings)


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
