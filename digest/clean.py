"""Stage 2, clean: a loaded :class:`Document` becomes an :class:`Article`.

Scraped pages carry site chrome, captions, author bios, pull quotes, calls to
action and bylines. The rules here judge a block (a line or paragraph) by its
*shape* (length, terminal punctuation, share of capitalised words), its
*position* (before the headline, at the very end) and *repetition* (a block
that repeats another one, or is contained in one). No rule names a site.

Everything removed is kept in ``Article.removed`` so tests and ``--debug``
can show it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .model import Article, Document
from .nlp import detect_language

# Words that make up navigation bars and buttons, in any site's chrome.
NAV_WORDS = frozenset(
    """
    search menu globe arrow right left up down close open toggle navigation nav
    skip content main home login log in sign out register subscribe share print
    email facebook twitter linkedin instagram youtube whatsapp pinterest x
    back top next previous prev more less expand collapse language languages
    en english español français deutsch 中文 cookie cookies accept settings
    """.split()
)

# How calls to action start: "More on ...", "Join the Conversation ...".
CTA_START = re.compile(
    r"^(more (on|from|about|stories|news|articles)|read (more|next|the full)"
    r"|related( stories| articles|:)"
    r"|see also|join (us|the|our)|subscribe|sign up|follow (us|the|our)|share (this|on)"
    r"|click here|learn more|find out more|download|contact us|watch|listen|"
    r"leave a comment|comments?\b|tags?:|filed under|copyright|©|all rights reserved)",
    re.I,
)

BYLINE_BY = re.compile(r"^by\s+(?P<name>[^,|]+?)(?:\s*[,|]\s*(?P<rest>.+))?$", re.I)
BYLINE_FOR = re.compile(r"^(?P<name>.+?)\s+for\s+(?P<pub>.+)$")
NAME = re.compile(
    r"^(?:(?:dr|prof|mr|mrs|ms)\.?\s+)?"
    r"[A-Z][\w'’-]*\.?(?:\s+(?:[A-Z]\.|[A-Z][\w'’-]*|de|van|von|da|del|la|le|bin|al)){1,4}$"
)

BIO = re.compile(r"^(?P<name>[^,.]+?(?:\.\s[^,.]+?)?)\s+(?:is|was|serves as|has been)\s")

TERMINAL = (
    ".",
    "!",
    "?",
    "…",
    "。",
    "！",
    "？",
    '."',
    ".”",
    '!"',
    '?"',
    "!”",
    "?”",
    ".'",
    ".’",
    ":",
)
QUOTES = "\"'“”‘’«»„"

MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        1,
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_RANGE = r"(?:\s*[-–—]\s*\d{1,2}(?:st|nd|rd|th)?)?"  # "16-17", "16–17th": the first day counts
# "November 16, 2024", "Nov. 16-17, 2024", "Saturday, November 16th 2024"
# Each pattern opens with a look-ahead for the characters a match can start
# with: the same matches, but the engine skips other positions at once.
DATE_MDY = re.compile(
    rf"(?=[JFMASONDjfmasond])\b({_MONTH_RE})\.?\s+{_DAY}{_RANGE},?\s+(\d{{4}})\b", re.I
)
# "16 November 2024", "16th of Nov. 2024", "16–17 November, 2024"
DATE_DMY = re.compile(rf"(?=\d)\b{_DAY}{_RANGE}\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.I)
# "2024-11-16", "2024/11/16"
DATE_ISO = re.compile(r"(?=\d)\b(\d{4})([-/])(\d{1,2})\2(\d{1,2})\b")
YEAR_DIGITS = re.compile(r"\d\d\d\d")  # every date above has four digits in a row
DATE_REACH = 64  # characters a date can span from its year (the longest form is ~35)
YEARS = range(1900, 2101)  # a four-digit number outside this is not a year we date by


WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:['.-][A-Za-z0-9]+)*")  # the same, in ASCII text


# Each block is asked about its words several times (is it navigation, a
# label, a call to action, a repeat?): the words are found once.
@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    return tuple((ASCII_WORD if text.isascii() else WORD).findall(text))


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Lower-case words only: what two copies of a block share."""
    # the words of the block as written (one scan, remembered), lower-cased
    return " ".join(words(unicodedata.normalize("NFKC", text))).lower()


def ends_sentence(text: str) -> bool:
    return text.rstrip().endswith(TERMINAL)


def is_quoted(text: str) -> bool:
    t = text.strip()
    return len(t) > 2 and t[0] in QUOTES and t.rstrip(" .")[-1] in QUOTES


def is_nav(text: str) -> bool:
    """A line made mostly of navigation words ("Search Menu Globe Arrow Right Close")."""
    if ends_sentence(text):
        return False
    ws = words(text)
    return len(ws) >= 2 and sum(w.lower() in NAV_WORDS for w in ws) / len(ws) >= 0.5


def capital_share(text: str) -> float:
    ws = words(text)
    if not ws:
        return 0.0
    return sum(1 for w in ws if w[0].isupper() or w[0].isdigit()) / len(ws)


def is_label(text: str) -> bool:
    """Captions, labels, name lines, headings: short, and not a sentence.

    A block is a label when it has no terminal punctuation and at most 20
    words, or when it is a short line (at most 15 words) that is mostly
    capitalised words, like "Jane Doe, MD, Vice-President." under a photo.
    """
    n = len(words(text))
    if not ends_sentence(text):
        return n <= 20
    return n <= 15 and capital_share(text) >= 0.6 and not is_quoted(text)


def is_cta(text: str) -> bool:
    return len(words(text)) <= 25 and bool(CTA_START.match(text.strip().lstrip(QUOTES)))


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def word_count(text: str) -> int:
    """Words, counting a run of CJK characters (written without spaces) as
    one word per two characters."""
    cjk = len(_CJK_CHAR.findall(text))
    if not cjk:
        return len(words(text))
    return len(words(_CJK_CHAR.sub(" ", text))) + max(1, cjk // 2)


def looks_like_headline(text: str) -> bool:
    n = word_count(text)
    return (
        2 <= n <= 30
        and not text.rstrip().endswith((".", ":", "。", "！", "？"))
        and not is_nav(text)
    )


def find_date(text: str) -> dt.date | None:
    """The first calendar date stated in ``text``.

    Knows "November 16, 2024", "Nov. 16th 2024", "16 November 2024",
    "16th of November 2024", ranges such as "November 16-17, 2024" (the
    first day) and ISO "2024-11-16" or "2024/11/16". A month name must be
    capitalised ("may 5, 2024" is not a date), the day must exist and the
    year lie in 1900-2100. A year alone ("in 2021") or a month and year
    ("summer 2023") is not a date: nothing is invented.
    """
    found: list[tuple[int, dt.date]] = []
    # Every date has four digits in a row: the patterns are tried only in a
    # window around each such run, not along the whole text. (With pos and
    # endpos the text is not cut: \b still sees the characters outside.)
    windows: list[tuple[int, int]] = []
    for run in YEAR_DIGITS.finditer(text):
        lo, hi = max(0, run.start() - DATE_REACH), min(len(text), run.end() + DATE_REACH)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], hi)
        else:
            windows.append((lo, hi))
    for lo, hi in windows:
        for m in DATE_MDY.finditer(text, lo, hi):
            d = _month_date(m.group(1), m.group(2), m.group(3))
            if d:
                found.append((m.start(), d))
        for m in DATE_DMY.finditer(text, lo, hi):
            d = _month_date(m.group(2), m.group(1), m.group(3))
            if d:
                found.append((m.start(), d))
        for m in DATE_ISO.finditer(text, lo, hi):
            d = _mkdate(int(m.group(1)), int(m.group(3)), int(m.group(4)))
            if d:
                found.append((m.start(), d))
    return min(found)[1] if found else None


def _month_date(month: str, day: str, year: str) -> dt.date | None:
    if not month[0].isupper():
        return None
    return _mkdate(int(year), MONTHS[month.lower()], int(day))


def _mkdate(y: int, m: int, d: int) -> dt.date | None:
    if y not in YEARS:
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def parse_date(value: str) -> dt.date | None:
    """A date from metadata: ISO first, then the forms ``find_date`` knows."""
    v = value.strip()
    try:
        return dt.date.fromisoformat(v[:10])
    except ValueError:
        return find_date(v)


@dataclass(frozen=True)
class Block:
    text: str
    norm: str


def split_blocks(text: str) -> list[str]:
    """Lines of scraped text, with hard-wrapped lines joined back together.

    A line continues the previous one when the previous one does not end a
    sentence and this one starts in lower case.
    """
    blocks: list[str] = []
    prev_blank = True
    for raw in text.split("\n"):
        line = " ".join(raw.split())
        if not line:
            prev_blank = True
            continue
        if blocks and not prev_blank and not ends_sentence(blocks[-1]) and line[:1].islower():
            blocks[-1] = f"{blocks[-1]} {line}"
        else:
            blocks.append(line)
        prev_blank = False
    return blocks


def _contained(short: str, long: str) -> bool:
    return len(short) >= 20 and len(short) < len(long) and short in long


# Comparing every pair of blocks is quadratic. Real articles have a few
# dozen blocks; beyond this many, only the first and last blocks (where
# bios, pull quotes and captions sit) are compared pairwise, and the rest
# only for exact repeats, so a huge hostile file cannot stall the build.
PAIRWISE_HEAD = 240
PAIRWISE_TAIL = 60


def repeated(blocks: Sequence[str]) -> set[int]:
    """Indexes of blocks that repeat others: pull quotes, doubled bios, captions.

    - a block contained in a longer one is the copy (a pull quote or a
      caption quoting the text): drop it;
    - two near-identical blocks where one is in quotes: drop the quoted one;
    - two near-identical plain blocks (a bio printed twice): drop both.
    """
    norms = [normalize(b) for b in blocks]
    n = len(blocks)
    if n <= PAIRWISE_HEAD + PAIRWISE_TAIL:
        window = list(range(n))
    else:
        window = [*range(PAIRWISE_HEAD), *range(n - PAIRWISE_TAIL, n)]
    sets = {i: set(norms[i].split()) for i in window}
    drop: set[int] = set()
    for x, i in enumerate(window):
        a, wa = norms[i], sets[i]
        if not a:
            continue
        for j in window[x + 1 :]:
            b, wb = norms[j], sets[j]
            if not b:
                continue
            if _contained(a, b):
                drop.add(i)
            elif _contained(b, a):
                drop.add(j)
            elif _similar_sets(a, b, wa, wb):
                qa, qb = is_quoted(blocks[i]), is_quoted(blocks[j])
                if qa and not qb:
                    drop.add(i)
                elif qb and not qa:
                    drop.add(j)
                else:
                    drop.update((i, j))
    if len(window) < n:  # the middle of a huge text: exact repeats only
        first: dict[str, int] = {}
        for i, norm in enumerate(norms):
            if not norm:
                continue
            if norm in first:
                drop.update((first[norm], i))
            else:
                first[norm] = i
    return drop


def _similar_sets(a: str, b: str, wa: set[str], wb: set[str]) -> bool:
    """``_similar`` on precomputed word sets."""
    small, large = sorted((len(wa), len(wb)))
    if small < 6:
        return a == b
    if small < 0.8 * large:  # Jaccard >= 0.8 is impossible
        return False
    return len(wa & wb) / len(wa | wb) >= 0.8


def _byline(text: str) -> tuple[str | None, str | None]:
    """(author, publisher) from a byline-shaped line, else (None, None)."""
    t = text.strip().rstrip(".")
    m = BYLINE_BY.match(t)
    if m and NAME.match(m.group("name").strip()):
        return m.group("name").strip(), (m.group("rest") or "").strip() or None
    m = BYLINE_FOR.match(t)
    if m and NAME.match(m.group("name").strip()) and len(words(m.group("pub"))) <= 6:
        return m.group("name").strip(), m.group("pub").strip()
    name = t.split(",", 1)[0].strip()
    if "," in t and NAME.match(name) and len(words(t)) <= 15:
        return name, None
    return None, None


# --- authors as page metadata gives them ------------------------------------

# Words that follow a name in a byline widget and are not part of it: links
# ("View author archive", "More stories by ...", "Twitter Email"), then the
# words that start a job title ("Senior Politics Editor", "Contributor").
# (a link word alone at the end may be a surname: "Jamie Read" stays)
_AUTHOR_LINKS = re.compile(
    r"\s+(?:(?:view|more|get|follow|read|see)\s+\S.*"
    r"|(?:twitter|facebook|e-?mail|rss|instagram|linkedin)\b.*)$",
    re.I,
)
_ROLE_WORDS = frozenset(
    """senior chief deputy associate assistant managing executive contributing staff special
    contributor correspondent reporter editor writer columnist producer""".split()
)
_DATE_WORDS = frozenset(MONTHS) | frozenset(
    """monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur
    thurs fri sat sun updated published posted on at am pm""".split()
)
_NOT_NAMES = frozenset("username user admin administrator guest anonymous".split())
_MAIL_TAIL = frozenset("com org net".split())


def _date_word(token: str) -> bool:
    t = token.lower().strip(".,")
    return t in _DATE_WORDS or t.isdigit()


def tidy_author(raw: str) -> str | None:
    """The names in an author field scraped from a page, without what byline
    widgets glue to them: "Oli Coleman View author archive" -> "Oli Coleman",
    "Sam Stein Senior Politics Editor" -> "Sam Stein", "Cindy Mangomini
    December" -> "Cindy Mangomini"; a part that is no name at all
    ("January", "Username", "F") is dropped. Several authors are listed
    with ", " between them."""
    kept = []
    for part in re.split(r"\s*[;|]\s*", " ".join(raw.split())):
        tokens = part.split()
        cut = _AUTHOR_LINKS.sub("", part).split()
        if len(cut) >= 2:  # a name is left before the links
            tokens = cut
        for k in (3, 2):  # "Jack Mirkinson Jack Mirkinson is an editor"
            if len(tokens) >= 2 * k and tokens[:k] == tokens[k : 2 * k]:
                tokens = tokens[:k]
        for k, t in enumerate(tokens):
            if k >= 1 and t in ("is", "was", "has"):  # the start of a bio
                tokens = tokens[:k]
                break
        # a date after a full name ("Theresa May" keeps hers)
        while len(tokens) > 2 and _date_word(tokens[-1]):
            tokens.pop()
        for k, t in enumerate(tokens):
            if k >= 2 and t.lower().strip(".,") in _ROLE_WORDS:
                tokens = tokens[:k]
                break
        # a handle: "Margaret Talev margarettalev"
        if len(tokens) >= 3 and "".join(tokens[:-1]).lower() == tokens[-1]:
            tokens.pop()
        name = " ".join(tokens).strip(" ,-–—:")
        letters = [c for c in name if c.isalpha()]
        if (
            len(letters) < 2
            or name.lower() in _NOT_NAMES
            or tokens[-1].lower() in _MAIL_TAIL
            or all(map(_date_word, tokens))
        ):
            continue
        if name not in kept:
            kept.append(name)
    return ", ".join(kept) or None


# Characters that are never text: C0/C1 controls (but tab and newline),
# surrogates, and the explicit bidi embeddings/overrides that can make a
# title display as something else ("Trojan source").
_NOT_TEXT = re.compile(
    r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)
MAX_TITLE_CHARS = 200
SAFE_URL_SCHEMES = ("http", "https", "mailto")


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab and newline stay)."""
    return _NOT_TEXT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def shorten(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    """A title for display and the subject: at most ``limit`` characters, cut at a word."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + "…"


def safe_url(value: str | None) -> str | None:
    """``value`` when it is an http(s) or mailto URL, else None.

    Links in the email come from untrusted input: ``javascript:``, ``data:``,
    ``file:`` and every other scheme must never become an ``href``.
    """
    if value is None:
        return None
    url = value.strip()
    if not url or any(ord(c) < 32 or c.isspace() for c in url):
        return None
    scheme, sep, rest = url.partition(":")
    if not sep or scheme.lower() not in SAFE_URL_SCHEMES or not rest:
        return None
    if scheme.lower() in ("http", "https") and not rest.startswith("//"):
        return None
    return url


# --- the headline of scraped text ---------------------------------------------

HEADLINE_NEAR = 8  # the first blocks, where a headline usually is
PROSE_REACH = 6  # blocks after a headline within which its article starts
PROSE_WORDS = 15  # a block this long that ends a sentence is article prose
BEFORE_PROSE = 12  # blocks before the article searched for its headline
_NOT_HEADLINE = re.compile(
    r"https?://|www\.|^by\s|^(?:photo|image|video|credit|source)s?\b|getty|shutterstock"
    r"|/\s*(?:ap|reuters|afp)\b",
    re.I,
)


def is_prose(text: str) -> bool:
    return ends_sentence(text) and word_count(text) >= PROSE_WORDS


def headline_index(blocks: Sequence[str], first: int | None) -> int | None:
    """Where the headline of scraped text is, when nothing names it; ``first``
    is the first headline-shaped block near the top, if any.

    Usually that block, with the article
    right after it. When the top is a long run of page furniture (a whole
    page copied with its menus), that block is a menu item far from any
    prose: the headline is then looked for just before the article itself,
    the longest stretch of prose in the text, among blocks that are neither
    bylines, nor credits, links, calls to action or labels of the page.
    """
    if first is not None and any(is_prose(b) for b in blocks[first + 1 : first + 1 + PROSE_REACH]):
        return first
    article = _article_start(blocks)
    if article is None:
        return first
    seen = Counter(normalize(b) for b in blocks)
    candidates = [
        k
        for k in range(max(0, article - BEFORE_PROSE), article)
        if looks_like_headline(blocks[k])
        and 3 <= word_count(blocks[k]) <= 20  # longer: a sentence without its full stop
        and not _NOT_HEADLINE.search(blocks[k])
        and not is_cta(blocks[k])
        and not _byline(blocks[k])[0]
        and find_date(blocks[k]) is None
        # a headline comes before its article: prose just above it would be
        # the article's own start, left out if this were taken
        and not any(is_prose(b) for b in blocks[max(0, k - PROSE_REACH) : k])
    ]
    if not candidates:
        return first
    # a headline is often printed twice (breadcrumb, heading, share text);
    # else the longest candidate, the nearest to the article on a tie
    repeated = [k for k in candidates if seen[normalize(blocks[k])] > 1]
    if repeated:
        return repeated[-1]
    return max(candidates, key=lambda k: (min(word_count(blocks[k]), 20), k))


def _article_start(blocks: Sequence[str]) -> int | None:
    """The first block of the longest stretch of prose (counted in words;
    up to three other blocks, captions say, may interrupt it)."""
    best: tuple[int, int] | None = None  # (words, start)
    start, total, gap = -1, 0, 0
    for k, b in enumerate(blocks):
        if is_prose(b):
            if start < 0:
                start, total = k, 0
            total += word_count(b)
            gap = 0
        elif start >= 0:
            gap += 1
            if gap > 3:
                if best is None or total > best[0]:
                    best = (total, start)
                start, gap = -1, 0
    if start >= 0 and (best is None or total > best[0]):
        best = (total, start)
    return best[1] if best else None


def clean(doc: Document) -> Article:
    """Find the title, metadata and body of one loaded document."""
    blocks = split_blocks(strip_controls(doc.text))
    removed: list[str] = []

    # --- the headline: metadata first, else the first headline-shaped block
    title = strip_controls(doc.get("title") or "").strip()
    title = " ".join(title.split())
    start = 0
    # the lines right under a headline found below the page's furniture:
    # where its byline and dateline are (see headline_index)
    under: list[str] = []
    if title:
        norm_title = normalize(title)
        while start < len(blocks) and (
            normalize(blocks[start]) == norm_title or is_nav(blocks[start])
        ):
            removed.append(blocks[start])
            start += 1
    else:
        first = next(
            (i for i, b in enumerate(blocks[:HEADLINE_NEAR]) if looks_like_headline(b)), None
        )
        found = headline_index(blocks, first)
        if first is not None:
            removed.extend(blocks[:first])
            start = first + 1
        if found is not None:
            # the body still runs from the first headline-shaped block: a
            # headline found further down may be a sidebar's, and its article
            # must not be cut off by it (the repeated block is dropped below)
            title = blocks[found]
            if found != first:
                under = blocks[found + 1 : found + 1 + PROSE_REACH]
        elif blocks:
            head = blocks[0]
            title = head if len(head) <= 120 else head[:117].rsplit(" ", 1)[0] + "…"
            start = 0  # the first block is body text too
    body = blocks[start:]
    norm_title = normalize(title)

    # --- metadata from bylines before they are dropped
    author = " ".join(strip_controls(doc.get("author") or "").split()) or None
    publisher = " ".join(strip_controls(doc.get("source") or "").split()) or None
    for b in under:  # read as the first lines of a body are, below
        if (ends_sentence(b) and not BYLINE_BY.match(b)) or normalize(b) == norm_title:
            continue
        a, p = _byline(b)
        author = author or a
        publisher = publisher or p
    for k, b in enumerate(body):
        early = k < 3
        last = k == len(body) - 1
        if not (early or last) or (ends_sentence(b) and not BYLINE_BY.match(b)):
            continue
        if normalize(b) == norm_title:  # the headline again, not a byline
            continue
        a, p = _byline(b)
        if a and not author and (early or BYLINE_BY.match(b) or p):
            author = a
        if p and not publisher:
            publisher = p

    # --- drop what is not article text
    drop = repeated(body)
    if not author:
        # A doubled block that introduces a person ("Dr. Jane Doe is ...")
        # is the author's bio.
        for k in sorted(drop):
            m = BIO.match(body[k])
            if m and NAME.match(m.group("name")):
                author = re.sub(r"^(?:dr|prof|mr|mrs|ms)\.?\s+", "", m.group("name"), flags=re.I)
                break
    kept: list[str] = []
    for k, b in enumerate(body):
        reason = None
        if k in drop or normalize(b) == norm_title:
            reason = "repeated"
        elif is_nav(b):
            reason = "navigation"
        elif is_cta(b):
            reason = "call to action"
        elif is_label(b) or (_byline(b)[0] and not ends_sentence(b)):
            reason = "caption or label"
        if reason:
            removed.append(b)
        else:
            kept.append(b)
    if not kept:
        # Nothing looked like prose (say, text with no punctuation at all):
        # keep the body rather than lose the article.
        kept = [b for b in body if not is_nav(b)] or ([title] if title else [])

    date = None
    meta_date = doc.get("date")
    if meta_date:
        date = parse_date(meta_date)
    if date is None:
        # A dateline sits near the top (often a line cleaning drops, like
        # "November 16, 2024" alone); else the first date the article states.
        # Trailing chrome (related stories and their dates) is not searched.
        date = (
            find_date("\n".join(under))
            or find_date("\n".join(blocks[: start + 3]))
            or find_date("\n".join(kept))
        )

    if not title:
        title = doc.source.replace("\\", "/").rsplit("/", 1)[-1]
    return Article(
        source=doc.source,
        title=shorten(title),
        paragraphs=tuple(kept),
        url=safe_url(doc.get("url")),
        date=date,
        author=author,
        publisher=publisher,
        language=(doc.get("language") or "").strip().lower()[:2]
        or detect_language(title + "\n" + "\n".join(kept)),
        theme=(" ".join(strip_controls(doc.get("theme") or "").split()) or None),
        removed=tuple(removed),
    )
