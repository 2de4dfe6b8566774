"""The same story from two sources becomes one item with "also in" links.

Two articles are the same story when their URLs are the same once tracking
parameters, fragments and cosmetic differences are stripped
(:func:`canonical_url`), or when their texts are near-identical: the
Jaccard similarity of their word 5-gram shingles is at least
:data:`JACCARD`, or the shorter text (a feed summary, say) is almost wholly
contained in the longer one. The most complete copy (the longest text) is
kept; the others become its ``also_in`` links.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
import zlib
from collections.abc import Collection, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .model import Article, Link
from .render import safe_url

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Prints: TypeAlias = "npt.NDArray[np.int64]"  # a text's shingles: sorted distinct numbers

TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|msclkid|yclid|twclid|igshid|mc_cid|mc_eid"
    r"|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|wt_mc|ref_src|spm)$",
    re.I,
)
SHINGLE = 5  # words per shingle
JACCARD = 0.5  # at least this similar: the same text
CONTAINED = 0.9  # this share of the shorter text's shingles found in the longer one
MIN_SHINGLES = 20  # texts shorter than this are compared by URL only
SHINGLES_KEPT = 2048  # texts whose shingles are remembered
COMMON = 50  # a shingle in more texts than this is boilerplate, not evidence
PAIR_TABLE = 1 << 22  # up to this many pairs (2,048 texts), shared shingles are counted in a table


def canonical_url(url: str) -> str:
    """``HTTPS://www.Example.org/a/?utm_source=x&b=2#top`` -> ``https://example.org/a?b=2``.

    Lower-case scheme and host, no ``www.``, no default port, no fragment,
    no trailing slash, tracking parameters removed, the rest sorted.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"  # the same page over either protocol
    host = (parts.hostname or "").lower()
    host = host.removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or ""
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)
    )
    return urlunsplit((scheme, host, path, urlencode(query), ""))


# A multiplier for combining the hashes of a shingle's words (FNV-1a's prime).
_MIX = 0x100000001B3


def _folded(word: str) -> bytes:
    """A word as shingles compare it: the typographic variants of a copy (’
    for ', a ligature, full-width letters) are the same word."""
    if word.isascii():
        return word.encode()
    return unicodedata.normalize("NFKC", word).casefold().replace("’", "'").encode()


def shingles(words: Sequence[str], size: int = SHINGLE) -> Prints:
    """The word ``size``-grams of ``words`` as distinct 64-bit numbers, sorted.

    Each word is hashed with crc32 (the same number in every process, unlike
    ``hash()``, which is salted per process: a build takes shingles in worker
    processes), and a shingle's number combines its words' numbers
    polynomially, for all shingles at once. Words are compared after folding
    typographic variants (see :func:`_folded`)."""
    import numpy as np

    n = len(words) - size + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    # (ASCII words need no folding: the usual case, hashed as they are)
    key = str.encode if "".join(words).isascii() else _folded
    h = np.fromiter(map(zlib.crc32, map(key, words)), np.uint64, len(words))
    mix = np.uint64(_MIX)
    acc = h[:n].copy()
    for k in range(1, size):
        acc = acc * mix + h[k : k + n]  # wraps around modulo 2**64, as meant
    out: Prints = np.unique(acc.view(np.int64))
    return out


# A build takes each article's shingles in the worker process that summarizes
# it and hands them to ``remember``; dedupe finds them here.
_KNOWN: dict[str, Prints] = {}


def remember(article: Article, prints: Prints) -> None:
    """Keep ``prints`` (from :func:`fingerprint`, perhaps in another process) for dedupe."""
    if len(_KNOWN) < SHINGLES_KEPT:
        _KNOWN[_text(article)] = prints


def forget() -> None:
    """Drop the remembered shingles (a build is done with them)."""
    _KNOWN.clear()


def _text(article: Article) -> str:
    return article.title + " " + article.body


def fingerprint(article: Article) -> Prints:
    """The shingles ``dedupe`` compares ``article`` by: those of the
    lower-case words of its title and body, as classify counts them (one
    reading of the text serves both)."""
    known = _KNOWN.get(_text(article))
    if known is not None:
        return known
    from .classify import counted

    return shingles(counted(article)[1])


def _same(size_a: int, size_b: int, common: int) -> bool:
    if min(size_a, size_b) < MIN_SHINGLES:
        return False
    jaccard = common / (size_a + size_b - common)
    return jaccard >= JACCARD or common / min(size_a, size_b) >= CONTAINED


def similar_pairs(texts: Sequence[Collection[int]]) -> list[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, whose shingle sets are the same text.

    Shared shingles are counted through an inverted index, so only texts
    that share a phrase are ever compared: linear in the words for unrelated
    articles, where comparing every pair would be quadratic. A shingle found
    in more than :data:`COMMON` texts is boilerplate and is not counted.

    Done with numpy: every shingle once per text, sorted, so each run of
    equal hashes names the texts that share it; the pairs in those runs are
    counted with one ``unique``. The same pairs, in the same order, as
    counting them in dictionaries.
    """
    import numpy as np

    keep = [i for i, text in enumerate(texts) if len(text) >= MIN_SHINGLES]
    if len(keep) < 2:
        return []
    n = len(texts)
    sizes = np.array([len(texts[i]) for i in keep], dtype=np.int64)
    hashes = np.concatenate(
        [
            t if isinstance(t, np.ndarray) else np.fromiter(t, np.int64, len(t))
            for t in (texts[i] for i in keep)
        ]
    )
    owner = np.repeat(np.array(keep, dtype=np.int64), sizes)
    # Most shingles occur in one text only and can pair nothing: a count by
    # the low bits of the hash (linear) finds those alone in their bucket,
    # which are left out before sorting (the costly part) what remains.
    # (4 buckets a shingle, at most 4M: 32 MB of counts, then the filter
    # just lets more through)
    buckets = 1 << min(22, max(10, (4 * len(hashes)).bit_length()))
    low = (hashes & (buckets - 1)).astype(np.intp)
    shared = np.bincount(low, minlength=buckets)[low] > 1
    hashes, owner = hashes[shared], owner[shared]
    order = np.argsort(hashes, kind="stable")  # owners stay ascending within a run
    hashes, owner = hashes[order], owner[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    runs = np.diff(np.r_[starts, len(hashes)])
    keys = []
    for k in np.unique(runs[(runs > 1) & (runs <= COMMON)]).tolist():
        members = owner[starts[runs == k][:, None] + np.arange(k)]
        a, b = np.triu_indices(k, 1)
        keys.append((members[:, a] * n + members[:, b]).ravel())
    if not keys:
        return []
    every = np.concatenate(keys)
    if n * n <= PAIR_TABLE:  # count in a table of all pairs: no sort
        counts = np.bincount(every, minlength=n * n)
        pairs = np.flatnonzero(counts)
        common = counts[pairs]
    else:
        pairs, common = np.unique(every, return_counts=True)
    first, second = pairs // n, pairs % n
    size = np.array([len(text) for text in texts], dtype=np.int64)
    size_a, size_b = size[first], size[second]
    jaccard = common / (size_a + size_b - common)
    contained = common / np.minimum(size_a, size_b)
    same = (jaccard >= JACCARD) | (contained >= CONTAINED)
    return list(zip(first[same].tolist(), second[same].tolist(), strict=True))


def label(article: Article) -> str:
    """How an "also in" link is named: the publisher, else the site, else the file."""
    if article.publisher:
        return article.publisher
    if article.url:
        host = (urlsplit(article.url).hostname or "").removeprefix("www.")
        if host:
            return host
    return PurePosixPath(article.source.split("#", 1)[0]).name or article.source


def dedupe(articles: Sequence[Article]) -> list[Article]:
    """Merge duplicates, keeping the first-seen order of the kept copies."""
    n = len(articles)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    by_url: dict[str, int] = {}
    for i, a in enumerate(articles):
        if a.url:
            key = canonical_url(a.url)
            if key in by_url:
                union(by_url[key], i)
            else:
                by_url[key] = i
    texts = [fingerprint(a) for a in articles]
    for i, j in similar_pairs(texts):
        union(i, j)

    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    out: list[Article] = []
    for members in groups.values():  # insertion order: by first member
        if len(members) == 1:
            out.append(articles[members[0]])
            continue
        # the most complete copy leads; ties go to the first seen
        lead = max(members, key=lambda k: (len(articles[k].body), -k))
        main = articles[lead]
        others = [articles[k] for k in members if k != lead]
        links: list[Link] = list(main.also_in)
        for o in others:
            # only an absolute http(s) URL becomes a link (a feed may say javascript:)
            for link in (Link(label=label(o), url=safe_url(o.url)), *o.also_in):
                if link not in links and link != Link(label=label(main), url=main.url):
                    links.append(link)
        date = main.date or next((o.date for o in others if o.date), None)
        # the group's place is its first member's place
        out.append(dataclasses.replace(main, also_in=tuple(links), date=date))
    return out
