"""Stage 4, classify: give each article a theme and group them into sections.

How an article finds its theme:

1. Words. Every text becomes Snowball stems of its content words (stop
   words, numbers and one-letter words dropped). An article counts its whole
   body plus its title, weighted :data:`TITLE_WEIGHT` times.
2. Weights. A stem weighs ``(1 + log tf) * idf``. The idf comes from
   background term statistics that ship with the package
   (``data/background_<lang>.txt.gz``, general English word frequencies), so
   a batch of five articles weighs words as a batch of five thousand does. A
   word's share of general text ``p`` becomes the chance that an article of
   :data:`DOC_LENGTH` words contains it, ``df = 1 - exp(-p * DOC_LENGTH)``,
   and ``idf = -log(df)``. For a language without a table, the batch's own
   document frequencies (smoothed, themes included) stand in.
3. Word vectors. The same weights, pushed through a small vector per stem
   (``data/vectors_<lang>.npz``, from GloVe), give each text a dense vector
   too, so "sprinter" and "football" meet. The direction every text shares,
   and the one all the themes share, are taken out. A text's vector is the
   unit tf-idf part times ``sqrt(1 - SEMANTIC)`` next to the unit dense part
   times ``sqrt(SEMANTIC)``: a dot product blends the two cosines.
4. Profiles. Each theme starts as a profile of its name and keywords (both
   weighted up), description and ``examples`` (articles that belong).
5. Re-centring. Articles are scored against the profiles; each theme then
   moves towards the articles it attracted, as in Rocchio feedback or
   seeded k-means, for :data:`ROUNDS` rounds or until nothing changes. An
   article's score for a theme becomes the mean of its fit with the
   theme's profile, counted as :data:`PRIOR` articles, and its cosines with
   the theme's articles: a theme backed by few articles stays near its
   profile, and attracting many articles does not raise a theme's scores
   (see :class:`_Centroids`). An article is left out of its own theme, so
   a first mistake can be undone. This is what lets a theme given five
   keywords recognise articles that use none of them.
6. Decision. The best score wins (the theme listed first wins a tie). The
   article's fit with the winner's own profile (before re-centring) decides
   "Other": below the threshold it goes there, and it moves no theme, so a
   batch about something else does not drag the themes along. Front matter
   ``theme:`` overrides everything.

The words that decided it are the article's words that pull it most towards
the winning theme rather than the runner-up: what an editor reads to fix a
theme's keywords. :func:`suggest` clusters articles (spherical k-means) to
propose themes.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import Article, Section, Theme
from .nlp import UNSPACED, stemmer, stop_words, words

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

TITLE_WEIGHT = 3.0  # the title counts as much as three mentions in the body
NAME_WEIGHT = 3.0  # a theme's name and keywords count more than its description
KEYWORD_WEIGHT = 2.0
DOC_LENGTH = 400  # words in a typical article, for the background df model
UNKNOWN_CENTIBELS = 750  # a word the background table lacks: rarer than all listed
ROUNDS = 10  # re-centring rounds (most batches settle in two or three)
PRIOR = 10.0  # a theme's own profile counts as this many of its articles (see _Centroids)
SEMANTIC = 0.3  # share of the word-vector cosine in a score (the rest: tf-idf)
REASONS = 5  # words shown per article
DATA = Path(__file__).resolve().parent / "data"


# --------------------------------------------------------------------- words


@cache  # one per language met: never dropped while its words are counted
def _term_cache(language: str) -> dict[str, str]:
    """word -> stem ("" for a word that is not a term), filled as words are met."""
    return {}


def _stem_of(word: str, language: str, cache: dict[str, str]) -> str:
    """The stem of a lower-case ``word``, "" for a stop word, a number or a
    lone letter; remembered in ``cache``."""
    if (
        word in stop_words(language)
        or (not word.isalpha() and any(ch.isdigit() for ch in word))
        or (len(word) < 2 and language not in UNSPACED)
    ):
        s = ""
    else:
        s = stemmer(language)(word.replace("’", "'"))
    cache[word] = s
    return s


def terms(text: str, language: str = "en") -> list[str]:
    """The stems of the content words of ``text``, in order."""
    cache = _term_cache(language)
    out: list[str] = []
    for w in words(text.lower(), language):
        s = cache.get(w)
        if s is None:
            s = _stem_of(w, language, cache)
        if s:
            out.append(s)
    return out


Bag = dict[str, float]  # stem -> weighted count
Forms = Counter[str]  # word -> how often it was seen: the words behind the stems


def _add(bag: Bag, stems: Sequence[str], weight: float = 1.0) -> Bag:
    for s in stems:
        bag[s] = bag.get(s, 0.0) + weight
    return bag


def article_counts(article: Article, forms: Forms | None = None) -> Bag:
    """The article's stems: the title counts :data:`TITLE_WEIGHT` times.
    ``forms``, when given, counts the words behind the stems."""
    key = (article.title, article.body, article.language)
    if forms is None:
        known = _KNOWN.get(key)
        if known is not None:
            return dict(known)
    bag, seen = _count(*key)
    if forms is not None:
        forms.update(seen)  # counted in C: ``seen`` is the words, not their counts
    return dict(bag)


# A build counts each article in the worker process that summarizes it (see
# :func:`counted`) and hands the counts to :func:`remember`; classify then
# finds them here instead of counting again. (Only the counts: the words
# behind them are for ``digest themes``, which counts in its own process.)
COUNTS_KEPT = 2048  # articles whose counts are remembered
# (stem -> weight, the lower-case words of title and body in order)
Counted = tuple[Bag, tuple[str, ...]]
_KNOWN: dict[tuple[str, str, str], Bag] = {}
_EMBEDDED: dict[tuple[str, str, str], FloatArray] = {}


def counted(article: Article) -> Counted:
    """(stem -> weight, the lower-case words in order) of the article; see ``article_counts``."""
    return _count(article.title, article.body, article.language)


def remember(article: Article, bag: Bag, embedding: FloatArray | None = None) -> None:
    """Keep ``bag`` and ``embedding`` (from :func:`counted` and :func:`embed`,
    perhaps in another process) for classify."""
    if len(_KNOWN) < COUNTS_KEPT:
        key = (article.title, article.body, article.language)
        _KNOWN[key] = bag
        if embedding is not None:
            _EMBEDDED[key] = embedding


def _embedded(article: Article) -> FloatArray | None:
    return _EMBEDDED.get((article.title, article.body, article.language))


@lru_cache(maxsize=COUNTS_KEPT)
def _count(title: str, body: str, language: str) -> Counted:
    """(stem -> weight, the words in order) of a title and body; see ``article_counts``."""
    cache = _term_cache(language)
    title_words = words(title.lower(), language)
    body_words = words(body.lower(), language)
    words_met = title_words + body_words
    seen: Forms = Counter(words_met)  # the words in the order met: title, then body
    for w in set(seen).difference(cache):  # only words never met before are stemmed
        _stem_of(w, language, cache)
    bag: Bag = {}
    get = bag.get
    for w, c in seen.items():
        s = cache[w]
        if s:
            bag[s] = get(s, 0.0) + c
    for w in title_words:  # a title word counts TITLE_WEIGHT times in all
        s = cache[w]
        if s:
            bag[s] += TITLE_WEIGHT - 1
    return bag, words_met


def forget() -> None:
    """Drop the remembered counts (a build is done with them)."""
    _KNOWN.clear()
    _EMBEDDED.clear()
    _count.cache_clear()


def warm(language: str) -> None:
    """Load ``language``'s tables ahead, while other processes work: that
    time comes off the serial part of a build."""
    background(language)
    word_vectors(language)


def _surface(forms: Forms, languages: Collection[str]) -> dict[str, str]:
    """stem -> its most frequent word (the first seen wins ties)."""
    caches = [_term_cache(lang) for lang in sorted(languages)]
    best: dict[str, tuple[str, int]] = {}
    one = caches[0].get if len(caches) == 1 else None  # the usual case, looked up directly
    for w, c in forms.items():
        s = one(w) if one else next((st for cache in caches if (st := cache.get(w))), "")
        if not s:
            continue
        seen = best.get(s)
        if seen is None or c > seen[1]:
            best[s] = (w, c)
    return {s: w for s, (w, _) in best.items()}


def theme_counts(theme: Theme, language: str = "en") -> Bag:
    """A theme's stems: name and keywords weighted up, description once."""
    bag = _add({}, terms(theme.name, language), NAME_WEIGHT)
    for kw in theme.keywords:
        _add(bag, terms(kw, language), KEYWORD_WEIGHT)
    return _add(bag, terms(theme.description, language))


# ---------------------------------------------------------------- statistics


@lru_cache(maxsize=8)
def background(language: str) -> dict[str, int] | None:
    """stem -> centibels (-100 log10 of its share of general text), or None.

    The tables are derived from the ``wordfreq`` package's frequency lists
    by ``tools/make_background.py``; see ``data/README.md``.
    """
    path = DATA / f"background_{language}.txt.gz"
    if not path.is_file():
        return None
    fields = gzip.decompress(path.read_bytes()).decode("utf-8").split()
    return dict(zip(fields[0::2], map(int, fields[1::2]), strict=True))


def embed(counts: Mapping[str, float], language: str) -> FloatArray | None:
    """The semantic part of a text: its unit tf-idf weights (background idf)
    through the word vectors, the direction shared by all text taken out.
    None for a language without tables (or with :data:`SEMANTIC` 0).

    It depends on the text alone, so a build works it out as each article
    comes back from the worker that summarized it (see :func:`remember`)."""
    many = embed_many([counts], language)
    return None if many is None else many[0]


EMBED_CHUNK = 64  # texts embedded together: few numpy calls, a small temporary array


def embed_many(bags: Sequence[Mapping[str, float]], language: str) -> FloatArray | None:
    """:func:`embed` of each bag, as rows; each row is the same whatever
    else is in ``bags`` (every sum runs over the bag's own terms, in order)."""
    import numpy as np

    info = _term_info(language) if SEMANTIC > 0 else None
    if info is None:
        return None
    vectors = info.matrix
    out = np.zeros((len(bags), vectors.shape[1]))
    for lo in range(0, len(bags), EMBED_CHUNK):
        chunk = bags[lo : lo + EMBED_CHUNK]
        sizes = np.fromiter(map(len, chunk), np.int64, len(chunk))
        terms = list(chain.from_iterable(chunk))
        if not terms:
            continue
        values = np.fromiter(chain.from_iterable(b.values() for b in chunk), float, len(terms))
        ids = info.ids(terms)
        keep = values > 0
        w = (1.0 + np.log(np.where(keep, values, 1.0))) * info.idf[ids]
        w[~keep] = 0.0
        owner = np.repeat(np.arange(len(chunk)), sizes)
        norm = np.sqrt(np.bincount(owner, weights=w * w, minlength=len(chunk)))
        rows = info.row[ids]
        has = (rows >= 0) & (norm[owner] > 0)
        if not has.any():
            continue
        o = owner[has]
        part = (w[has] / norm[o])[:, None] * vectors.unprojected(rows[has])
        starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
        out[lo + o[starts]] = np.add.reduceat(part, starts, axis=0)
    return vectors.project(out)


class _TermInfo:
    """A language's terms as they are met: a number each, with its background
    idf and its row in the word vectors (-1 for none), so that weighing a
    text takes one dictionary look-up a term."""

    def __init__(self, table: Mapping[str, int], rows: Mapping[str, int], matrix: Vectors):
        import numpy as np

        self.table, self.rows, self.matrix = table, rows, matrix
        self.index: dict[str, int] = {}
        self.idf = np.zeros(0)
        self.row = np.zeros(0, dtype=np.int64)

    def ids(self, terms: Sequence[str]) -> IntArray:
        import numpy as np

        new = [t for t in dict.fromkeys(terms) if t not in self.index]
        if new:
            start = len(self.index)
            self.index.update((t, start + k) for k, t in enumerate(new))
            cb = np.fromiter((self.table.get(t, UNKNOWN_CENTIBELS) for t in new), float, len(new))
            idf = np.maximum(_background_idf(cb), 1e-3)
            row = np.fromiter((self.rows.get(t, -1) for t in new), np.int64, len(new))
            end = start + len(new)
            if end > len(self.idf):  # grow by doubling: linear over a long build
                size = max(1024, 2 * end)
                self.idf = np.concatenate([self.idf[:start], np.zeros(size - start)])
                self.row = np.concatenate([self.row[:start], np.zeros(size - start, np.int64)])
            self.idf[start:end] = idf
            self.row[start:end] = row
        return np.fromiter(map(self.index.__getitem__, terms), np.int64, len(terms))


@lru_cache(maxsize=8)
def _term_info(language: str) -> _TermInfo | None:
    table, wv = background(language), word_vectors(language)
    if table is None or wv is None:
        return None
    return _TermInfo(table, wv[0], wv[1])


def _background_idf(cb: FloatArray) -> FloatArray:
    """idf from centibels (see the module notes): ``-log(1 - exp(-p * DOC_LENGTH))``."""
    import numpy as np

    idf: FloatArray = -np.log(-np.expm1(-(10.0 ** (-cb / 100.0)) * DOC_LENGTH))
    return idf


class Vectors:
    """A language's word vectors (int8 rows scaled by 1/127, one per stem),
    read a few rows at a time: the direction shared by all text (``mean``) is
    taken out of each row as it is read, so loading does not copy and
    project the whole table."""

    def __init__(self, raw: npt.NDArray[np.int8], mean: FloatArray) -> None:
        self.raw, self.mean = raw, mean

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.raw.shape)

    def __getitem__(self, rows: Any) -> FloatArray:
        return self.project(self.unprojected(rows))

    def unprojected(self, rows: Any) -> FloatArray:
        """The rows as stored (scaled to floats), the shared direction still in."""
        import numpy as np

        m: FloatArray = self.raw[rows].astype(np.float64) / 127.0
        return m

    def project(self, m: FloatArray) -> FloatArray:
        """``m`` (a vector or rows) with the shared direction taken out: a
        linear map, so a sum of projected rows is the projected sum."""
        import numpy as np

        # (m * mean).sum(-1), not m @ mean: each row's dot product is then
        # summed the same way whatever the number of rows
        out: FloatArray = m - np.multiply.outer((m * self.mean).sum(axis=-1), self.mean)
        return out


@lru_cache(maxsize=8)
def word_vectors(language: str) -> tuple[dict[str, int], Vectors] | None:
    """stem -> row, and the rows: a unit vector per stem with the direction
    shared by all text taken out, or None for a language without a table.

    Derived from GloVe (public domain) by ``tools/make_vectors.py``; see
    ``data/README.md``. The shared direction is the vector a generic article
    would have (every stem weighted by its background document frequency
    times idf); without removing it, every article looks like every theme.
    """
    import numpy as np

    path = DATA / f"vectors_{language}.npz"
    table = background(language)
    if not path.is_file() or table is None:
        return None
    with np.load(path, allow_pickle=False) as z:
        stems: list[str] = z["stems"].tolist()
        raw = z["vectors"]
    cb = np.fromiter((table.get(st, UNKNOWN_CENTIBELS) for st in stems), float, len(stems))
    p = 10.0 ** (-cb / 100.0)
    df = -np.expm1(-p * DOC_LENGTH)
    mean = _unit(np.einsum("i,ij->j", df * -np.log(df), raw) / 127.0)
    return {st: i for i, st in enumerate(stems)}, Vectors(raw, mean)


@dataclass(frozen=True)
class Space:
    """Articles as unit-length rows in two parts.

    The lexical part is the tf-idf weights over the batch's vocabulary
    (sparse: CSR arrays ``indptr``, ``indices``, ``data``), scaled by
    ``sqrt(1 - SEMANTIC)``; the semantic part is the same weights pushed
    through the word vectors (dense, ``emb``), scaled by ``sqrt(SEMANTIC)``.
    A dot product of two rows is then a blend of the two cosines. Theme
    profiles and centroids are dense vectors of :attr:`width` = vocabulary
    + vector dimensions.
    """

    vocab: dict[str, int]
    idf: FloatArray
    indptr: IntArray
    indices: IntArray
    data: FloatArray  # lexical weights, scaled
    vectors: FloatArray  # vocab x dims: each stem's vector (zeros when it has none)
    emb: FloatArray  # rows x dims: the semantic part, scaled
    emb_scale: FloatArray  # per row: sqrt(SEMANTIC) / |x| (x the unscaled embedding)
    lex_scale: FloatArray  # per row: the scale of the lexical part

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def width(self) -> int:
        return len(self.vocab) + int(self.vectors.shape[1])

    def row_ids(self) -> IntArray:
        import numpy as np

        return np.repeat(np.arange(self.rows), np.diff(self.indptr))

    def vector(self, counts: Mapping[str, float]) -> FloatArray:
        """A unit-length profile of ``counts`` (terms outside the vocabulary dropped)."""
        import numpy as np

        lex = np.zeros(len(self.vocab))
        for t, c in counts.items():
            j = self.vocab.get(t)
            if j is not None and c > 0:
                lex[j] = (1.0 + math.log(c)) * self.idf[j]
        lex = _unit(lex)
        emb = lex @ self.vectors
        if not emb.any():
            return np.concatenate([lex, emb])
        a, b = _mix()
        return _unit(np.concatenate([a * lex, b * _unit(emb)]))

    def scores(self, centroids: FloatArray) -> FloatArray:
        """Dot product of every row with every centroid (rows x centroids)."""
        import numpy as np

        v = len(self.vocab)
        ids = self.row_ids()
        out = np.zeros((self.rows, len(centroids)))
        for k, c in enumerate(centroids):
            out[:, k] = np.bincount(ids, weights=self.data * c[self.indices], minlength=self.rows)
        if self.emb.shape[1]:
            out += self.emb @ centroids[:, v:].T
        return out

    def sum(self, mask: npt.NDArray[np.bool_]) -> FloatArray:
        """The sum of the rows where ``mask`` is true."""
        import numpy as np

        take = mask[self.row_ids()]
        lex = np.bincount(self.indices[take], weights=self.data[take], minlength=len(self.vocab))
        return np.concatenate([lex.astype(float), self.emb[mask].sum(axis=0)])

    def mean(self, mask: npt.NDArray[np.bool_]) -> FloatArray:
        """The unit-length mean of the rows where ``mask`` is true (zeros when none)."""
        return _unit(self.sum(mask))

    def dense_row(self, i: int) -> FloatArray:
        import numpy as np

        v = np.zeros(self.width)
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        v[self.indices[lo:hi]] = self.data[lo:hi]
        v[len(self.vocab) :] = self.emb[i]
        return v


def _mix() -> tuple[float, float]:
    return math.sqrt(1.0 - SEMANTIC), math.sqrt(SEMANTIC)


def build_space(
    bags: Sequence[Bag],
    extra: Sequence[Bag] = (),
    language: str = "en",
    shared: Sequence[Bag] = (),
    embedded: Sequence[FloatArray | None] = (),
) -> Space:
    """Index ``bags`` (rows) over the vocabulary of ``bags`` and ``extra`` (themes).

    ``shared``: when two or more bags are given (the themes), the direction
    their word vectors have in common is taken out of every word vector, so
    the semantic part compares articles on what tells the themes apart
    (three health themes all look like a health article otherwise).
    ``embedded``: per bag, its :func:`embed` in ``language`` if already
    worked out (None where not).
    """
    import numpy as np

    keys = list(chain.from_iterable(bags))
    # numbered in the order first met: the articles' terms, then the themes'
    vocab = {t: k for k, t in enumerate(dict.fromkeys(chain(keys, *extra)))}
    table = background(language)
    if table is not None:
        cb = np.fromiter((table.get(t, UNKNOWN_CENTIBELS) for t in vocab), float, len(vocab))
        idf = _background_idf(cb)
    else:  # no background for this language: the batch's own, smoothed
        df = np.zeros(len(vocab))
        for bag in (*bags, *extra):
            df[[vocab[t] for t in bag]] += 1
        n = len(bags) + len(extra)
        idf = np.log((n + 1) / (df + 0.5))
    idf = np.maximum(idf, 1e-3)
    wv = word_vectors(language) if SEMANTIC > 0 else None
    common = None
    if wv is None:
        vectors = np.zeros((len(vocab), 0))
    else:
        rows, matrix = wv
        where = np.fromiter((rows.get(t, -1) for t in vocab), np.int64, len(vocab))
        vectors = np.zeros((len(vocab), matrix.shape[1]))
        vectors[where >= 0] = matrix[where[where >= 0]]
        if len(shared) >= 2:
            common = np.zeros(matrix.shape[1])
            for bag in shared:
                cols = [vocab[t] for t, c in bag.items() if c > 0]
                w = (1.0 + np.log([c for c in bag.values() if c > 0])) * idf[cols]
                common = common + _unit(_unit(w) @ vectors[cols]) if cols else common
            common = _unit(common)
            vectors = vectors - np.outer(vectors @ common, common)
    lengths = np.fromiter((len(b) for b in bags), np.int64, len(bags))
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    idx = np.fromiter(map(vocab.__getitem__, keys), np.int64, len(keys))
    counts = np.fromiter(chain.from_iterable(bag.values() for bag in bags), float, len(keys))
    weights = (1.0 + np.log(np.maximum(counts, 1e-12))) * idf[idx]
    n_rows = len(bags)
    row_ids = np.repeat(np.arange(n_rows), lengths)
    filled = lengths > 0
    row_norm = np.zeros(n_rows)
    if filled.any():
        row_norm[filled] = np.sqrt(np.add.reduceat(weights**2, indptr[:-1][filled]))
    unit_data = weights / np.where(row_norm > 0, row_norm, 1.0)[row_ids]
    emb = np.zeros((n_rows, vectors.shape[1]))
    if vectors.shape[1]:
        known = [i for i in range(n_rows) if i < len(embedded) and embedded[i] is not None]
        for i in known:
            emb[i] = embedded[i]
        todo = sorted(set(range(n_rows)).difference(known))
        worked = embed_many([bags[i] for i in todo], language) if todo else None
        if worked is not None:
            emb[todo] = worked
        if common is not None:  # a linear map: the same as summing the projected vectors
            emb = emb - np.outer(emb @ common, common)
    norms = np.linalg.norm(emb, axis=1)
    a, b = _mix()
    has = norms > 1e-12
    lex_scale = np.where(has, a, 1.0)
    emb_scale = np.where(has, b / np.where(has, norms, 1.0), 0.0)
    return Space(
        vocab=vocab,
        idf=idf,
        indptr=indptr,
        indices=idx,
        data=unit_data * lex_scale[row_ids],
        vectors=vectors,
        emb=emb * emb_scale[:, None],
        emb_scale=emb_scale,
        lex_scale=lex_scale,
    )


def _language(articles: Sequence[Article]) -> str:
    """The batch's most common language (the first seen wins ties)."""
    c = Counter(a.language for a in articles)
    return c.most_common(1)[0][0] if c else "en"


# -------------------------------------------------------------------- assign


def _unit(v: FloatArray) -> FloatArray:
    import numpy as np

    n = float(np.linalg.norm(v))
    return v / n if n else v


def _members(matrix: FloatArray, fit: FloatArray, threshold: float) -> IntArray:
    """Per row, the best column of ``matrix`` (the first wins ties), or -1 when
    the row's ``fit`` with that column is below ``threshold`` or not positive."""
    import numpy as np

    if not matrix.shape[1]:
        return np.full(len(matrix), -1, dtype=np.int64)
    best = np.argmax(matrix, axis=1)
    top = fit[np.arange(len(matrix)), best]
    return np.where((top >= threshold) & (top > 0), best, -1).astype(np.int64)


@dataclass(frozen=True)
class _Centroids:
    """Each theme as seen by each article: the mean of its own profile,
    counted as :data:`PRIOR` articles, and the articles it attracted, the
    article itself left out. An article's score for a theme is then

        ``(PRIOR * a . seed + sum of a . b over those articles b) / (PRIOR + m)``

    with ``m`` the number of those articles: its fit with the theme's
    profile and its mean similarity to the theme's other articles, weighed
    by how many articles back the mean (a credibility-weighted estimate).

    Two things follow. A theme backed by one or two articles of a batch stays
    near its profile, so one wrong member cannot drag the others after it;
    one backed by many moves towards its articles. And a theme is not
    favoured for having attracted many articles: the cosine with a
    normalised sum of articles grows with their number for any article
    (each shares a little with all), so themes that happened to attract
    many in a small batch outscored the rest; a mean does not grow.

    Leaving the article out matters in small batches: otherwise an article
    always looks like the theme it was put in, and a first mistake is never
    undone. Everything is computed from dot products, without building a
    centroid per article.
    """

    seed: FloatArray  # themes x vocab, unit rows
    sums: FloatArray  # themes x vocab: the sum of each theme's articles
    assigned: IntArray  # theme index per article, -1 for none
    base: FloatArray  # articles x themes: a_i . seed_k
    attract: FloatArray  # articles x themes: a_i . S_k

    @cached_property
    def _parts(self) -> list[tuple[IntArray, FloatArray]]:
        import numpy as np

        out = []
        for t in range(self.base.shape[1]):
            own = self.assigned[: len(self.base)] == t
            others = int(np.count_nonzero(self.assigned == t)) - own
            # the article's own row is unit length: a_i . a_i = 1
            out.append((others, np.where(own, self.attract[:, t] - 1.0, self.attract[:, t])))
        return out

    def parts(self, t: int) -> tuple[IntArray, FloatArray]:
        """Per article: how many other articles back theme ``t``, and the
        sum of the article's dot products with them."""
        return self._parts[t]

    def scores(self) -> FloatArray:
        import numpy as np

        out = np.empty_like(self.base)
        for t in range(self.base.shape[1]):
            others, dot = self.parts(t)
            # with no other article the score is the fit itself, not a
            # rounding of it (nor of "the theme's articles without this one")
            mean = (PRIOR * self.base[:, t] + dot) / (PRIOR + others)
            out[:, t] = np.where(others > 0, mean, self.base[:, t])
        return out


@dataclass(frozen=True)
class Result:
    """The scores behind one batch: what ``digest themes`` shows."""

    matrix: FloatArray  # articles x themes, after re-centring: decides the theme
    fit: FloatArray  # articles x themes, with the theme profiles alone: decides "Other"
    reasons: tuple[tuple[str, ...], ...]


def score(
    articles: Sequence[Article],
    themes: Sequence[Theme],
    examples: Mapping[str, Sequence[Article]] | None = None,
    threshold: float = 0.0,
    explain: bool = True,
) -> Result:
    """Score every article against every theme, re-centring on the batch.

    Only articles whose fit with their best theme's own profile reaches
    ``threshold`` move that theme, so a batch about something else does not
    drag the themes after it. Articles with a front matter theme, and the
    themes' examples, count for their theme from the start. ``explain``:
    also find the words that decided each article (``digest themes`` shows
    them; a build does not, and saves the time).
    """
    import numpy as np

    examples = examples or {}
    language = _language(articles)
    n = len(articles)
    seeds = [theme_counts(t, language) for t in themes]
    # examples are rows too: members of their theme from the start
    members = [
        (k, article_counts(e)) for k, t in enumerate(themes) for e in examples.get(t.name, ())
    ]
    forms: Forms | None = Counter() if explain else None
    bags = [article_counts(a, forms) for a in articles] + [b for _, b in members]
    embedded = [_embedded(a) if a.language == language else None for a in articles]
    space = build_space(bags, seeds, language, shared=seeds, embedded=embedded)
    seed = np.zeros((len(themes), space.width))
    for k, counts in enumerate(seeds):
        v = space.vector(counts)
        rows = [n + m for m, (kk, _) in enumerate(members) if kk == k]
        if rows:
            mask = np.zeros(space.rows, dtype=bool)
            mask[rows] = True
            v = v + space.mean(mask)
        seed[k] = _unit(v)

    index = {t.name: k for k, t in enumerate(themes)}
    fixed = np.array(
        [index.get(a.theme, -1) if a.theme else -2 for a in articles] + [k for k, _ in members],
        dtype=np.int64,
    )
    base = space.scores(seed)  # cosine with the seed profiles
    matrix = base
    assigned = np.where(fixed == -2, _members(base, base, threshold), fixed)
    none = np.full_like(assigned, -1)  # before re-centring: every theme its own profile
    cents = _Centroids(seed, np.zeros_like(seed), none, base, np.zeros_like(base))
    for _ in range(ROUNDS if len(themes) > 1 or members else 0):
        sums = np.array([space.sum(assigned == k) for k in range(len(themes))])
        cents = _Centroids(seed, sums, assigned, base, space.scores(sums))
        matrix = cents.scores()
        again = np.where(fixed == -2, _members(matrix, base, threshold), fixed)
        if np.array_equal(again, assigned):
            break
        assigned = again

    matrix, base = matrix[:n], base[:n]
    if forms is None:
        return Result(matrix=matrix, fit=base, reasons=tuple(() for _ in range(n)))
    reasons = _reasons(n, space, cents, matrix, _surface(forms, {a.language for a in articles}))
    return Result(matrix=matrix, fit=base, reasons=reasons)


def _reasons(
    n: int, space: Space, cents: _Centroids, matrix: FloatArray, forms: Mapping[str, str]
) -> tuple[tuple[str, ...], ...]:
    """Per article, the words that pull it most towards its best theme rather
    than the runner-up (the weight in the article times the difference of
    the two centroids), at most :data:`REASONS`, strongest first (ties: in
    alphabetical order).

    Worked out for all articles at once, over their nonzero weights (the
    semantic part, each word's vector times its article's centroid
    difference, 64 articles at a time). The centroids are those of
    :class:`_Centroids`, each as its article sees it."""
    import numpy as np

    k = matrix.shape[1]
    if not k or not n:
        return tuple(() for _ in range(n))
    v, d = len(space.vocab), space.vectors.shape[1]
    order = np.argsort(-matrix, axis=1, kind="stable")
    best = order[:, 0]
    second = order[:, 1] if k > 1 else None
    rows = space.row_ids()
    keep = rows < n  # the articles' weights; examples' rows follow them
    rows, cols, values = rows[keep], space.indices[keep], space.data[keep]

    def centroid(t: IntArray) -> tuple[FloatArray, FloatArray]:
        """Per weight, theme ``t[row]``'s centroid as its article sees it at the
        weight's word: ``(PRIOR * seed + the other articles' sum) / (PRIOR + m)``,
        the profile alone when no other article backs it (see
        :class:`_Centroids`); and per article, the centroid's semantic part."""
        others = np.empty(n)
        for theme in range(k):
            at = t == theme
            others[at] = cents.parts(theme)[0][:n][at]
        alone = others == 0
        own = (cents.assigned[:n] == t).astype(float)  # the article is in its own sum
        tr = t[rows]
        lex = np.where(
            alone[rows],
            cents.seed[tr, cols],
            (PRIOR * cents.seed[tr, cols] + cents.sums[tr, cols] - values * own[rows])
            / (PRIOR + others[rows]),
        )
        emb = np.where(
            alone[:, None],
            cents.seed[t, v:],
            (PRIOR * cents.seed[t, v:] + cents.sums[t, v:] - space.emb[:n] * own[:, None])
            / (PRIOR + others[:, None]),
        )
        return lex, emb

    lex, emb = centroid(best)
    if second is not None:
        lex2, emb2 = centroid(second)
        lex, emb = lex - lex2, emb - emb2
    # lexical: the word's weight times the centroids' difference at it;
    # semantic: the word's share of the article's vector, along the difference
    pull = values * lex
    if d:
        share = values / space.lex_scale[rows] * space.emb_scale[rows]
        step = 64  # articles at a time: their words x dimensions stay a few MB
        for lo in range(0, n, step):
            a, b = np.searchsorted(rows, [lo, lo + step])
            along = np.einsum("ij,ij->i", space.vectors[cols[a:b]], emb[rows[a:b]])
            pull[a:b] += share[a:b] * along
    # Per article: the 2 x REASONS strongest pulls (ties: the earlier weight),
    # then, among those that pull towards the best theme, the strongest by
    # value rounded to 9 places (ties: alphabetical).
    # (A weight that does not pull towards the best theme is never shown, and
    # it cannot push a stronger one out of the first 2 x REASONS either.)
    towards = np.flatnonzero(pull > 0)
    ranked = towards[np.lexsort((-pull[towards], rows[towards]))]  # lexsort is stable
    starts = np.searchsorted(rows[ranked], np.arange(n))
    rank = np.arange(len(ranked)) - starts[rows[ranked]]
    kept = ranked[rank < REASONS * 2]
    inverse = list(space.vocab)
    words, at = np.unique(cols[kept], return_inverse=True)
    alphabetical = np.argsort(np.argsort(np.array([inverse[c] for c in words.tolist()], dtype=str)))
    final = kept[np.lexsort((alphabetical[at], -np.round(pull[kept], 9), rows[kept]))]
    out: list[list[str]] = [[] for _ in range(n)]
    for r, c in zip(rows[final].tolist(), cols[final].tolist(), strict=True):
        if len(out[r]) < REASONS:
            term = inverse[c]
            out[r].append(forms.get(term, term))
    return tuple(tuple(x) for x in out)


def classify(
    articles: Sequence[Article],
    themes: Sequence[Theme],
    threshold: float,
    other: str,
    examples: Mapping[str, Sequence[Article]] | None = None,
    explain: bool = True,
) -> tuple[Article, ...]:
    """Each article with ``theme``, ``theme_score``, ``scores`` and ``reasons`` set.

    ``examples`` maps a theme's name to its loaded example articles.
    Front matter ``theme:`` wins over the scores. ``explain=False`` leaves
    ``reasons`` empty (see :func:`score`).
    """
    if not articles:
        return ()
    result = score(articles, themes, examples, threshold, explain)
    names = [t.name for t in themes]
    out = []
    for i, article in enumerate(articles):
        row = [round(float(x), 4) for x in result.matrix[i]] if names else []
        fits = [round(float(x), 4) for x in result.fit[i]] if names else []
        scores = tuple(zip(names, row, strict=True))
        if article.theme:
            k = names.index(article.theme) if article.theme in names else -1
            out.append(
                replace(
                    article,
                    theme_score=row[k] if k >= 0 else 0.0,
                    theme_fit=fits[k] if k >= 0 else 0.0,
                    scores=scores,
                    reasons=(),
                )
            )
            continue
        best_name, best, fit = other, 0.0, 0.0
        if names:
            k = max(range(len(names)), key=lambda j: (row[j], -j))  # first wins ties
            best_name, best, fit = names[k], row[k], fits[k]
        if fit < threshold or fit <= 0:
            best_name = other
        out.append(
            replace(
                article,
                theme=best_name,
                theme_score=best,
                theme_fit=fit,
                scores=scores,
                reasons=result.reasons[i],
            )
        )
    return tuple(out)


def group(articles: Sequence[Article], themes: Sequence[Theme], other: str) -> tuple[Section, ...]:
    """Sections in config order (then themes only front matter names, then "Other");
    empty ones omitted.

    Within a section: newest first (undated last), then by score, then title.
    """
    order = [t.name for t in themes]
    descriptions = {t.name: t.description for t in themes}
    extra = sorted({a.theme or other for a in articles} - set(order) - {other})
    order = order + extra + [other]
    sections = []
    for name in order:
        items = [a for a in articles if (a.theme or other) == name]
        if not items:
            continue
        items.sort(
            key=lambda a: (
                -(a.date.toordinal() if a.date else 0),
                -a.theme_score,
                a.title.lower(),
                a.source,
            )
        )
        sections.append(
            Section(theme=name, items=tuple(items), description=descriptions.get(name, ""))
        )
    return tuple(sections)


# ---------------------------------------------------------------- the report


def report(
    articles: Sequence[Article],
    themes: Sequence[Theme],
    other: str,
    threshold: float,
    overridden: Collection[str] = (),
) -> dict[str, Any]:
    """What ``digest themes`` shows, as plain data: the classified ``articles``
    in section order, each with its theme, its score for every theme and the
    words that decided it. ``overridden``: sources whose theme came from
    front matter."""
    rows = []
    for section in group(articles, themes, other):
        for a in section.items:
            rows.append(
                {
                    "source": a.source,
                    "title": a.title,
                    "date": a.date.isoformat() if a.date else None,
                    "theme": section.theme,
                    "score": round(a.theme_score, 4),
                    "fit": round(a.theme_fit, 4),
                    "override": a.source in overridden,
                    "scores": dict(a.scores),
                    "words": list(a.reasons),
                }
            )
    return {
        "themes": [t.name for t in themes],
        "other": other,
        "threshold": threshold,
        "articles": rows,
    }


def report_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def report_table(data: Mapping[str, Any], title_width: int = 40) -> str:
    """One line per article: title, theme, its fit, a score per theme (the
    winner starred), the deciding words; grouped by section."""
    names: list[str] = list(data["themes"])
    theme_w = max([len("THEME"), *(len(r["theme"]) for r in data["articles"])])
    widths = [max(len(n), 6) for n in names]
    head = [f"{'ARTICLE':<{title_width}}", f"{'THEME':<{theme_w}}", f"{'FIT':>6}"]
    head += [f"{n:>{w}}" for n, w in zip(names, widths, strict=True)]
    lines = ["  ".join([*head, "DECIDED BY"]).rstrip()]
    for r in data["articles"]:
        cells = [
            f"{_cell(r['title'], title_width):<{title_width}}",
            f"{r['theme']:<{theme_w}}",
            f"{r['fit']:>6.3f}",
        ]
        for n, w in zip(names, widths, strict=True):
            value = float(r["scores"].get(n, 0.0))
            star = "*" if n == r["theme"] else " "
            cells.append(f"{star + format(value, '.3f'):>{w}}")
        why = "front matter theme" if r["override"] else ", ".join(r["words"])
        lines.append("  ".join([*cells, why]).rstrip())
    count = len(data["articles"])
    lines += [
        "",
        f"{count} article{'s' * (count != 1)}. * marks the theme: the highest score, the article",
        "compared with each theme as this batch shaped it. FIT compares it with the theme's",
        "own name, keywords, description and examples only; below "
        f"{data['threshold']:g} (classify.threshold)",
        f'the article goes to "{data["other"]}".',
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------- suggest


@dataclass(frozen=True)
class Suggestion:
    name: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]  # sources of the most typical articles
    articles: tuple[Article, ...]


KMEANS_RESTARTS = 8
KMEANS_ROUNDS = 30


def _kmeans(space: Space, k: int) -> IntArray:
    """Spherical k-means (cosine) with k-means++ starts from fixed seeds; the
    restart with the highest total similarity wins, so the result is
    deterministic."""
    import numpy as np

    n = space.rows
    best_labels = np.zeros(n, dtype=np.int64)
    best_total = -1.0
    for restart in range(KMEANS_RESTARTS):
        rng = random.Random(restart)
        chosen = [rng.randrange(n)]
        while len(chosen) < k:
            cents = np.array([space.dense_row(c) for c in chosen])
            dist = np.clip(1.0 - space.scores(cents).max(axis=1), 0.0, None)
            dist[chosen] = 0.0
            total = float(dist.sum())
            if total <= 0:  # the rest are copies of the chosen: take the next one
                chosen.append(next(i for i in range(n) if i not in chosen))
                continue
            pick = int(np.searchsorted(np.cumsum(dist), rng.random() * total, side="right"))
            chosen.append(min(pick, n - 1) if dist[min(pick, n - 1)] > 0 else int(np.argmax(dist)))
        cents = np.array([space.dense_row(c) for c in chosen])
        labels = np.full(n, -1, dtype=np.int64)
        for _ in range(KMEANS_ROUNDS):
            new = np.argmax(space.scores(cents), axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for c in range(k):
                if (labels == c).any():
                    cents[c] = space.mean(labels == c)
        total = float(space.scores(cents)[np.arange(n), labels].sum())
        if total > best_total + 1e-9:
            best_total, best_labels = total, labels.copy()
    return best_labels


def suggest(articles: Sequence[Article], k: int) -> tuple[Suggestion, ...]:
    """Propose ``k`` themes by clustering ``articles``: each named after its
    top terms, with its keywords, its two most typical articles as examples,
    and its articles. Clusters come out largest first."""
    import numpy as np

    from .errors import DigestError

    if k < 1 or k > len(articles):
        raise DigestError(
            f"--suggest {k}: there are {len(articles)} articles to cluster",
            hint=f"ask for between 1 and {len(articles)} themes",
        )
    language = _language(articles)
    found: Forms = Counter()
    bags = [article_counts(a, found) for a in articles]
    space = build_space(bags, language=language)
    labels = _kmeans(space, k) if k > 1 else np.zeros(len(articles), dtype=np.int64)
    forms = _surface(found, {a.language for a in articles})
    inverse = list(space.vocab)
    # document frequency of each term inside and outside a cluster
    present = np.zeros((len(articles), len(space.vocab)), dtype=bool)
    present[space.row_ids(), space.indices] = True
    out = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if not len(members):
            continue
        inside = present[members].mean(axis=0)
        outside = present[labels != c].mean(axis=0) if (labels != c).any() else 0.0
        # typical of the cluster: shared by its articles, rarer elsewhere,
        # and not a word every text has (background idf)
        weight = (inside - outside) * np.sqrt(space.idf)
        if len(members) > 1:
            weight = np.where(present[members].sum(axis=0) >= 2, weight, -np.inf)
        order = np.lexsort((np.array(inverse), -weight))
        top = [inverse[j] for j in order[:5] if np.isfinite(weight[j]) and weight[j] > 0]
        keywords = tuple(forms.get(t, t) for t in top)
        centroid = space.mean(labels == c)
        sims = space.scores(centroid[None, :])[:, 0]
        typical = sorted(members.tolist(), key=lambda i: (-sims[i], articles[i].source))
        name = " and ".join(keywords[:2]).capitalize() or f"Theme {c + 1}"
        out.append(
            Suggestion(
                name=name,
                keywords=keywords,
                examples=tuple(articles[i].source for i in typical[:2]),
                articles=tuple(articles[i] for i in typical),
            )
        )
    out.sort(key=lambda s: (-len(s.articles), s.name))
    return tuple(out)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def suggestion_toml(suggestions: Sequence[Suggestion]) -> str:
    """``[[themes]]`` tables ready to paste into digest.toml."""
    n = sum(len(s.articles) for s in suggestions)
    lines = [
        f"# {len(suggestions)} themes suggested from {n} articles by `digest themes --suggest`.",
        "# Rename them, check the keywords, add a description, then paste them into",
        "# digest.toml. Example paths are relative to the current folder.",
    ]
    for s in suggestions:
        lines += [
            "",
            "[[themes]]",
            f"name = {_toml_string(s.name)}",
            'description = ""',
            f"keywords = [{', '.join(_toml_string(k) for k in s.keywords)}]",
            f"examples = [{', '.join(_toml_string(e) for e in s.examples)}]",
            f"# {len(s.articles)} article{'s' * (len(s.articles) != 1)}:",
        ]
        lines += [
            f"#   {' '.join(a.source.split())}: {' '.join(a.title.split())}" for a in s.articles
        ]
    return "\n".join(lines) + "\n"
