"""Theme grouping quality and speed on the BBC dev set.

    /work/venv/bin/python bench/themes.py [--data DIR] [--seeds N]

Quality: each of the 5 categories becomes a theme, (a) given only its name
and five keywords an editor would write for it, (b) the same plus two
``examples`` per category (the first two articles of the category by id;
they are not scored). Accuracy and macro-F1 are printed for the 100 (or 90)
articles grouped at once and in batches of 20 (a month's worth), the batches
drawn from a shuffled order, over several shuffles (mean and worst).

Speed: grouping (classify + group, background statistics loaded cold) of
1,000 articles, the dev texts repeated with small variations, after they
were loaded and cleaned; loading and summarizing are not counted.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.classify import classify, group  # noqa: E402
from digest.clean import clean  # noqa: E402
from digest.config import ClassifyConfig  # noqa: E402
from digest.load import load  # noqa: E402
from digest.model import Article, Theme  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "bbc-dev"
if not DEFAULT_DATA.is_dir():
    DEFAULT_DATA = Path("/work/shared/eval/bbc-dev")

# What an editor would write for each section, chosen before any run.
KEYWORDS = {
    "business": ("Business", ("economy", "company", "market", "shares", "profit")),
    "entertainment": ("Entertainment", ("film", "music", "television", "actor", "award")),
    "politics": ("Politics", ("government", "election", "minister", "parliament", "party")),
    "sport": ("Sport", ("football", "match", "championship", "player", "team")),
    "tech": ("Tech", ("technology", "software", "internet", "computer", "mobile")),
}
OTHER = "Other"
THRESHOLD = ClassifyConfig().threshold  # the default
BATCH = 20


def category(article: Article) -> str:
    return Path(article.source).parent.name


def read(data: Path) -> list[Article]:
    docs, warnings = load([str(data / "articles")])
    for w in warnings:
        print("warning:", w, file=sys.stderr)
    return [clean(d) for d in docs]


def metrics(gold: list[str], pred: list[str]) -> tuple[float, float]:
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    f1s = []
    for c in sorted(set(gold)):
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return acc, sum(f1s) / len(f1s)


def predict(
    articles: list[Article],
    themes: tuple[Theme, ...],
    examples: dict[str, tuple[Article, ...]],
    batch: int | None,
) -> list[str]:
    name_to_cat = {name: cat for cat, (name, _) in KEYWORDS.items()}
    out: dict[str, str] = {}
    size = batch or len(articles)
    for i in range(0, len(articles), size):
        chunk = articles[i : i + size]
        for a in classify(chunk, themes, THRESHOLD, OTHER, examples):
            out[a.source] = name_to_cat.get(a.theme or OTHER, OTHER)
    return [out[a.source] for a in articles]


def quality(articles: list[Article], shuffles: int) -> None:
    themes_a = tuple(Theme(name, keywords=kws) for name, kws in KEYWORDS.values())
    by_cat: dict[str, list[Article]] = {}
    for a in sorted(articles, key=lambda a: a.source):
        by_cat.setdefault(category(a), []).append(a)
    examples = {KEYWORDS[c][0]: tuple(arts[:2]) for c, arts in by_cat.items()}
    example_sources = {a.source for exs in examples.values() for a in exs}
    themes_b = tuple(
        replace(t, examples=tuple(a.source for a in examples[t.name])) for t in themes_a
    )

    print(f"{'config':<30} {'grouping':<24} {'n':>4} {'accuracy':>9} {'macro-F1':>9}")
    for label, themes, exs in (
        ("(a) name + 5 keywords", themes_a, {}),
        ("(b) + 2 examples per theme", themes_b, examples),
    ):
        scored = [a for a in articles if a.source not in example_sources] if exs else articles
        gold = [category(a) for a in scored]
        acc, f1 = metrics(gold, predict(scored, themes, exs, None))
        row(label, "all at once", len(scored), acc, f1)
        accs, f1s = [], []
        for seed in range(shuffles):
            order = sorted(scored, key=lambda a: a.source)
            random.Random(seed).shuffle(order)
            acc, f1 = metrics([category(a) for a in order], predict(order, themes, exs, BATCH))
            accs.append(acc)
            f1s.append(f1)
        row("", f"batches of {BATCH}, mean", len(scored), sum(accs) / shuffles, sum(f1s) / shuffles)
        row("", f"batches of {BATCH}, worst", len(scored), min(accs), min(f1s))


def row(label: str, grouping: str, n: int, acc: float, f1: float) -> None:
    print(f"{label:<30} {grouping:<24} {n:>4} {acc:>9.3f} {f1:>9.3f}")


def speed(articles: list[Article], n: int = 1000) -> None:
    themes = tuple(Theme(name, keywords=kws) for name, kws in KEYWORDS.values())
    many = []
    for i in range(n):
        a = articles[i % len(articles)]
        paras = a.paragraphs[i % 3 :] or a.paragraphs  # vary: drop leading paragraphs
        many.append(replace(a, source=f"{a.source}#{i}", paragraphs=paras, theme=None))
    t0 = time.perf_counter()
    classified = classify(many, themes, THRESHOLD, OTHER)
    group(classified, themes, OTHER)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    classified = classify(many, themes, THRESHOLD, OTHER)
    group(classified, themes, OTHER)
    warm = time.perf_counter() - t0
    print(f"grouping {n} articles: {cold:.3f} s (first run), {warm:.3f} s (warm)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5, help="shuffles for the batch runs")
    args = parser.parse_args()
    articles = read(args.data)
    print(f"{len(articles)} articles from {args.data}")
    quality(articles, args.seeds)
    speed(articles)


if __name__ == "__main__":
    main()
