"""Stage 4, classify: give each article a theme and group them into sections.

Each theme is a weighted bag of stemmed words built from its name,
description and keywords; each article is a bag of its title (weighted
higher) and body. An article goes to the theme whose bag is most similar
(cosine over TF-IDF weights), or to the "Other" section when no score reaches
the threshold. Front matter ``theme:`` overrides.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from .model import Article, Section, Theme
from .nlp import stemmer, stop_words, words

TITLE_WEIGHT = 3.0
KEYWORD_WEIGHT = 3.0


Bag = dict[str, float]


def _bag(text: str, language: str, weight: float = 1.0, into: Bag | None = None) -> Bag:
    """Weighted counts of the stemmed content words of ``text``."""
    stem = stemmer(language)
    stops = stop_words(language)
    bag: Bag = {} if into is None else into
    for w in words(text, language):
        lw = w.lower()
        if lw in stops or len(lw) < 2 or lw.isdigit():
            continue
        key = stem(lw)
        bag[key] = bag.get(key, 0.0) + weight
    return bag


def theme_bag(theme: Theme, language: str = "en") -> Bag:
    bag = _bag(theme.name, language, KEYWORD_WEIGHT)
    _bag(theme.description, language, into=bag)
    for kw in theme.keywords:
        _bag(kw, language, KEYWORD_WEIGHT, into=bag)
    return bag


def article_bag(article: Article) -> Bag:
    bag = _bag(article.title, article.language, TITLE_WEIGHT)
    return _bag(article.body, article.language, into=bag)


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def score(articles: Sequence[Article], themes: Sequence[Theme]) -> list[list[float]]:
    """Score matrix: one row per article, one column per theme."""
    bags = [article_bag(a) for a in articles]
    tbags = [theme_bag(t) for t in themes]
    n = len(bags) + len(tbags)
    df: Counter[str] = Counter()
    for bag in (*bags, *tbags):
        df.update(bag.keys())
    idf = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}

    def weigh(bag: Bag) -> dict[str, float]:
        return {w: (1 + math.log1p(c)) * idf[w] for w, c in bag.items() if c > 0}

    wt = [weigh(t) for t in tbags]
    return [[_cosine(weigh(b), t) for t in wt] for b in bags]


def classify(
    articles: Sequence[Article], themes: Sequence[Theme], threshold: float, other: str
) -> tuple[Article, ...]:
    """Each article with ``theme``, ``theme_score`` and ``scores`` set."""
    matrix = score(articles, themes) if themes else [[] for _ in articles]
    out = []
    for article, row in zip(articles, matrix, strict=True):
        scores = tuple((t.name, round(s, 4)) for t, s in zip(themes, row, strict=True))
        if article.theme:
            out.append(replace(article, scores=scores))
            continue
        best_name, best = other, 0.0
        for name, s in scores:  # first theme wins ties: deterministic
            if s > best:
                best_name, best = name, s
        if best < threshold:
            best_name = other
        out.append(replace(article, theme=best_name, theme_score=best, scores=scores))
    return tuple(out)


def group(articles: Sequence[Article], themes: Sequence[Theme], other: str) -> tuple[Section, ...]:
    """Sections in config order (then "Other", then unknown override themes); empty ones omitted.

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
