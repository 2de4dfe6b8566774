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
3. Profiles. Each theme starts as a profile of its name and keywords (both
   weighted up), description and ``examples`` (articles that belong).
4. Re-centring. Articles are scored against the profiles (cosine); each
   theme then moves towards the articles it attracted: its profile becomes
   seed + the mean of those articles, as in Rocchio feedback or seeded
   k-means, for :data:`ROUNDS` rounds or until nothing changes. This is what
   lets a theme given five keywords recognise articles that use none of them.
5. Decision. The best score wins (the theme listed first wins a tie); below
   the threshold the article goes to the "Other" section. Front matter
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
from functools import lru_cache
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
FEEDBACK = 1.0  # weight of the attracted articles' mean against the seed profile
REASONS = 5  # words shown per article
DATA = Path(__file__).resolve().parent / "data"


# --------------------------------------------------------------------- words


@lru_cache(maxsize=32)
def _term_cache(language: str) -> dict[str, str]:
    """word -> stem ("" for a word that is not a term), filled as words are met."""
    return {}


def terms(text: str, language: str = "en") -> list[str]:
    """The stems of the content words of ``text``, in order."""
    cache = _term_cache(language)
    out: list[str] = []
    get = cache.get
    for w in words(text.lower(), language):
        s = get(w)
        if s is None:
            if (
                w in stop_words(language)
                or any(ch.isdigit() for ch in w)
                or (len(w) < 2 and language not in UNSPACED)
            ):
                s = ""
            else:
                s = stemmer(language)(w.replace("’", "'"))
            cache[w] = s
        if s:
            out.append(s)
    return out


def surface_forms(texts: Sequence[tuple[str, str]]) -> dict[str, str]:
    """stem -> its most frequent word in ``(text, language)`` pairs (first seen wins ties)."""
    counts: dict[str, Counter[str]] = {}
    for text, language in texts:
        cache = _term_cache(language)
        terms(text, language)  # fill the cache
        for w in words(text.lower(), language):
            s = cache.get(w)
            if s:
                counts.setdefault(s, Counter())[w] += 1
    return {s: c.most_common(1)[0][0] for s, c in counts.items()}


Bag = dict[str, float]  # stem -> weighted count


def _add(bag: Bag, stems: Sequence[str], weight: float = 1.0) -> Bag:
    for s in stems:
        bag[s] = bag.get(s, 0.0) + weight
    return bag


def article_counts(article: Article) -> Bag:
    """The article's stems: the title counts :data:`TITLE_WEIGHT` times."""
    bag = _add({}, terms(article.title, article.language), TITLE_WEIGHT)
    return _add(bag, terms(article.body, article.language))


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
    table: dict[str, int] = {}
    for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
        stem, _, cb = line.partition(" ")
        table[stem] = int(cb)
    return table


def _idf_from_centibels(cb: int) -> float:
    p = 10.0 ** (-cb / 100.0)
    return -math.log(-math.expm1(-p * DOC_LENGTH))


@dataclass(frozen=True)
class Space:
    """Articles as unit-length tf-idf rows over one vocabulary (CSR arrays)."""

    vocab: dict[str, int]
    idf: FloatArray
    indptr: IntArray
    indices: IntArray
    data: FloatArray

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def row_ids(self) -> IntArray:
        import numpy as np

        return np.repeat(np.arange(self.rows), np.diff(self.indptr))

    def dense(self, counts: Mapping[str, float]) -> FloatArray:
        """A unit-length dense vector of ``counts`` (terms outside the vocabulary dropped)."""
        import numpy as np

        v = np.zeros(len(self.vocab))
        for t, c in counts.items():
            j = self.vocab.get(t)
            if j is not None and c > 0:
                v[j] = (1.0 + math.log(c)) * self.idf[j]
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def scores(self, centroids: FloatArray) -> FloatArray:
        """Cosine of every row with every centroid (rows x centroids)."""
        import numpy as np

        ids = self.row_ids()
        out = np.zeros((self.rows, len(centroids)))
        for k, c in enumerate(centroids):
            out[:, k] = np.bincount(ids, weights=self.data * c[self.indices], minlength=self.rows)
        return out

    def mean(self, mask: npt.NDArray[np.bool_]) -> FloatArray:
        """The unit-length mean of the rows where ``mask`` is true (zeros when none)."""
        import numpy as np

        take = mask[self.row_ids()]
        v = np.bincount(self.indices[take], weights=self.data[take], minlength=len(self.vocab))
        return _unit(v.astype(float))

    def sum(self, mask: npt.NDArray[np.bool_]) -> FloatArray:
        """The sum of the rows where ``mask`` is true."""
        import numpy as np

        take = mask[self.row_ids()]
        return np.bincount(
            self.indices[take], weights=self.data[take], minlength=len(self.vocab)
        ).astype(float)

    def dense_row(self, i: int) -> FloatArray:
        import numpy as np

        v = np.zeros(len(self.vocab))
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        v[self.indices[lo:hi]] = self.data[lo:hi]
        return v

    def row(self, i: int) -> dict[int, float]:
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return dict(zip(self.indices[lo:hi].tolist(), self.data[lo:hi].tolist(), strict=True))


def build_space(bags: Sequence[Bag], extra: Sequence[Bag] = (), language: str = "en") -> Space:
    """Index ``bags`` (rows) over the vocabulary of ``bags`` and ``extra`` (themes)."""
    import numpy as np

    vocab: dict[str, int] = {}
    for bag in (*bags, *extra):
        for t in bag:
            if t not in vocab:
                vocab[t] = len(vocab)
    table = background(language)
    if table is not None:
        idf = np.array(
            [_idf_from_centibels(table.get(t, UNKNOWN_CENTIBELS)) for t in vocab], dtype=float
        )
    else:  # no background for this language: the batch's own, smoothed
        df = np.zeros(len(vocab))
        for bag in (*bags, *extra):
            df[[vocab[t] for t in bag]] += 1
        n = len(bags) + len(extra)
        idf = np.log((n + 1) / (df + 0.5))
    idf = np.maximum(idf, 1e-3)
    indptr = np.zeros(len(bags) + 1, dtype=np.int64)
    indices: list[int] = []
    data: list[float] = []
    for i, bag in enumerate(bags):
        cols = [vocab[t] for t in bag]
        w = (1.0 + np.log(np.fromiter(bag.values(), float, len(bag)))) * idf[cols]
        indices.extend(cols)
        data.extend(_unit(w).tolist())
        indptr[i + 1] = len(indices)
    return Space(
        vocab=vocab,
        idf=idf,
        indptr=indptr,
        indices=np.array(indices, dtype=np.int64),
        data=np.array(data, dtype=float),
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


def _best(matrix: FloatArray, threshold: float) -> IntArray:
    """Index of the best column per row (the first wins ties); -1 when the best
    is below ``threshold`` or not positive."""
    import numpy as np

    if not matrix.shape[1]:
        return np.full(len(matrix), -1, dtype=np.int64)
    best = np.argmax(matrix, axis=1)
    top = matrix[np.arange(len(matrix)), best]
    return np.where((top >= threshold) & (top > 0), best, -1).astype(np.int64)


@dataclass(frozen=True)
class _Centroids:
    """Each theme's centroid as seen by each article: ``unit(seed + FEEDBACK * unit(S'))``,
    ``S'`` the sum of the articles the theme attracted, the article itself left out.

    Leaving the article out matters in small batches: otherwise an article
    always looks like the theme it was put in, and a first mistake is never
    undone. Everything is computed from dot products, without building a
    centroid per article.
    """

    seed: FloatArray  # themes x vocab, unit rows
    sums: FloatArray  # themes x vocab
    assigned: IntArray  # theme index per article, -1 for none
    base: FloatArray  # articles x themes: a_i . seed_k
    attract: FloatArray  # articles x themes: a_i . S_k

    def parts(self, t: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per article: |S'|, a_i . S', seed . S' for theme ``t``."""
        import numpy as np

        own = self.assigned == t
        m = float(self.sums[t] @ self.sums[t])
        r = float(self.seed[t] @ self.sums[t])
        p = self.attract[:, t]
        norm = np.sqrt(np.maximum(np.where(own, m - 2 * p + 1, m), 0.0))
        return norm, np.where(own, p - 1, p), np.where(own, r - self.base[:, t], r)

    def scores(self) -> FloatArray:
        import numpy as np

        out = np.empty_like(self.base)
        for t in range(self.base.shape[1]):
            norm, dot, sdot = self.parts(t)
            empty = norm < 1e-9
            safe = np.where(empty, 1.0, norm)
            f = np.where(empty, 0.0, FEEDBACK)
            au = np.where(empty, 0.0, dot / safe)
            su = np.where(empty, 0.0, sdot / safe)
            out[:, t] = (self.base[:, t] + f * au) / np.sqrt(
                np.maximum(1 + f * f + 2 * f * su, 1e-12)
            )
        return out

    def weights(self, i: int, t: int, cols: IntArray, values: FloatArray) -> FloatArray:
        """Theme ``t``'s centroid, as article ``i`` sees it, at the columns ``cols``."""
        import numpy as np

        norm, _, sdot = (float(x[i]) for x in self.parts(t))
        if norm < 1e-9:
            return np.asarray(self.seed[t, cols], dtype=float)
        s = self.sums[t, cols] - (values if self.assigned[i] == t else 0.0)
        scale = math.sqrt(max(1 + FEEDBACK**2 + 2 * FEEDBACK * sdot / norm, 1e-12))
        return np.asarray((self.seed[t, cols] + FEEDBACK * s / norm) / scale)


@dataclass(frozen=True)
class Result:
    """The scores behind one batch: what ``digest themes`` shows."""

    matrix: FloatArray  # articles x themes
    reasons: tuple[tuple[str, ...], ...]


def score(
    articles: Sequence[Article],
    themes: Sequence[Theme],
    examples: Mapping[str, Sequence[Article]] | None = None,
    threshold: float = 0.0,
) -> Result:
    """Score every article against every theme, re-centring on the batch.

    Only articles whose best score reaches ``threshold`` move a theme, so a
    batch about something else does not drag the themes after it. Articles
    with a front matter theme count for that theme from the start.
    """
    import numpy as np

    examples = examples or {}
    language = _language(articles)
    bags = [article_counts(a) for a in articles]
    seeds = [theme_counts(t, language) for t in themes]
    example_bags = [[article_counts(e) for e in examples.get(t.name, ())] for t in themes]
    space = build_space(bags, [*seeds, *(b for bs in example_bags for b in bs)], language)
    seed = np.zeros((len(themes), len(space.vocab)))
    for k, (counts, ex) in enumerate(zip(seeds, example_bags, strict=True)):
        v = space.dense(counts)
        if ex:
            v = v + _unit(sum((space.dense(b) for b in ex), np.zeros(len(space.vocab))))
        seed[k] = _unit(v)

    index = {t.name: k for k, t in enumerate(themes)}
    fixed = np.array([index.get(a.theme, -1) if a.theme else -2 for a in articles], dtype=np.int64)
    base = space.scores(seed)  # cosine with the seed profiles
    matrix = base
    assigned = np.where(fixed == -2, _best(base, threshold), fixed)
    cents = _Centroids(seed, np.zeros_like(seed), assigned, base, np.zeros_like(base))
    for _ in range(ROUNDS if len(themes) > 1 else 0):
        sums = np.array([space.sum(assigned == k) for k in range(len(themes))])
        cents = _Centroids(seed, sums, assigned, base, space.scores(sums))
        matrix = cents.scores()
        again = np.where(fixed == -2, _best(matrix, threshold), fixed)
        if np.array_equal(again, assigned):
            break
        assigned = again

    return Result(matrix=matrix, reasons=_reasons(articles, space, cents, matrix))


def _reasons(
    articles: Sequence[Article], space: Space, cents: _Centroids, matrix: FloatArray
) -> tuple[tuple[str, ...], ...]:
    """Per article, the words that pull it most towards its best theme rather
    than the runner-up (the weight in the article times the difference of
    the two centroids)."""
    import numpy as np

    k = matrix.shape[1]
    if not k:
        return tuple(() for _ in articles)
    forms = surface_forms([(f"{a.title}\n{a.body}", a.language) for a in articles])
    inverse = list(space.vocab)
    out = []
    for i in range(len(articles)):
        lo, hi = int(space.indptr[i]), int(space.indptr[i + 1])
        cols, values = space.indices[lo:hi], space.data[lo:hi]
        order = np.argsort(-matrix[i], kind="stable")
        pull = cents.weights(i, int(order[0]), cols, values)
        if k > 1:
            pull = pull - cents.weights(i, int(order[1]), cols, values)
        pull = values * pull
        top = sorted(
            ((float(w), inverse[j]) for w, j in zip(pull, cols.tolist(), strict=True) if w > 0),
            key=lambda p: (-p[0], p[1]),
        )[:REASONS]
        out.append(tuple(forms.get(t, t) for _, t in top))
    return tuple(out)


def classify(
    articles: Sequence[Article],
    themes: Sequence[Theme],
    threshold: float,
    other: str,
    examples: Mapping[str, Sequence[Article]] | None = None,
) -> tuple[Article, ...]:
    """Each article with ``theme``, ``theme_score``, ``scores`` and ``reasons`` set.

    ``examples`` maps a theme's name to its loaded example articles.
    Front matter ``theme:`` wins over the scores.
    """
    if not articles:
        return ()
    result = score(articles, themes, examples, threshold)
    names = [t.name for t in themes]
    out = []
    for i, article in enumerate(articles):
        row = [float(x) for x in result.matrix[i]] if names else []
        scores = tuple((n, round(s, 4)) for n, s in zip(names, row, strict=True))
        if article.theme:
            s = dict(scores).get(article.theme, 0.0)
            out.append(replace(article, theme_score=s, scores=scores, reasons=()))
            continue
        best_name, best = other, 0.0
        for name, s in scores:  # strictly greater: the first theme wins ties
            if s > best:
                best_name, best = name, s
        if best < threshold:
            best_name = other
        out.append(
            replace(
                article,
                theme=best_name,
                theme_score=best,
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
    """One line per article: title, theme, a score per theme (the winner
    starred), the deciding words; grouped by section."""
    names: list[str] = list(data["themes"])
    theme_w = max([len("THEME"), *(len(r["theme"]) for r in data["articles"])])
    widths = [max(len(n), 6) for n in names]
    head = [f"{'ARTICLE':<{title_width}}", f"{'THEME':<{theme_w}}"]
    head += [f"{n:>{w}}" for n, w in zip(names, widths, strict=True)]
    lines = ["  ".join([*head, "DECIDED BY"]).rstrip()]
    for r in data["articles"]:
        cells = [f"{_cell(r['title'], title_width):<{title_width}}", f"{r['theme']:<{theme_w}}"]
        for n, w in zip(names, widths, strict=True):
            value = float(r["scores"].get(n, 0.0))
            star = "*" if n == r["theme"] else " "
            cells.append(f"{star + format(value, '.3f'):>{w}}")
        why = "front matter theme" if r["override"] else ", ".join(r["words"])
        lines.append("  ".join([*cells, why]).rstrip())
    count = len(data["articles"])
    lines.append("")
    lines.append(
        f"{count} article{'s' * (count != 1)}; * = its theme; a best score below "
        f'{data["threshold"]:g} goes to "{data["other"]}" (classify.threshold).'
    )
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
    bags = [article_counts(a) for a in articles]
    space = build_space(bags, language=language)
    labels = _kmeans(space, k) if k > 1 else np.zeros(len(articles), dtype=np.int64)
    forms = surface_forms([(f"{a.title}\n{a.body}", a.language) for a in articles])
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
