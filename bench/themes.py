"""Theme grouping quality and speed on the BBC dev set.

    /work/venv/bin/python bench/themes.py [--data DIR] [--seeds N] [--keywords main|alt]

Quality: each of the 5 categories becomes a theme, (a) given only its name
and five keywords an editor would write for it, (b) the same plus two
``examples`` per category (they are not scored): the first two articles of
the category by id, then random pairs (seeded), mean and worst over draws.
Accuracy and macro-F1 are printed for the 100 (or 90)
articles grouped at once and in batches of 20 (a month's worth), the batches
drawn from a shuffled order, over several shuffles (mean and worst).

(c) is a bound for comparison: each article against category centroids made
of all the other articles with their true labels (leave-one-out), and a
ridge classifier trained on those 99 labelled articles. Neither uses theme
text or examples; they show what the article representation allows.

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
from typing import Any

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
# A second set, written independently of the first and of any result, to
# check that a change helps any reasonable keywords, not just the ones above.
KEYWORDS_ALT = {
    "business": ("Business", ("trade", "bank", "firm", "investment", "sales")),
    "entertainment": ("Entertainment", ("cinema", "singer", "show", "album", "celebrity")),
    "politics": ("Politics", ("vote", "policy", "law", "campaign", "leader")),
    "sport": ("Sport", ("game", "coach", "win", "tournament", "league")),
    "tech": ("Tech", ("digital", "online", "phone", "gadget", "data")),
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


def draw_examples(by_cat: dict[str, list[Article]], draw: int) -> dict[str, tuple[Article, ...]]:
    """Two examples per category: draw 0 takes the first two by id, later
    draws two at random (seeded), so no single lucky pair decides the figure."""
    if draw == 0:
        return {KEYWORDS[c][0]: tuple(arts[:2]) for c, arts in by_cat.items()}
    rng = random.Random(1000 + draw)
    return {KEYWORDS[c][0]: tuple(rng.sample(arts, 2)) for c, arts in by_cat.items()}


def evaluate(
    articles: list[Article],
    themes: tuple[Theme, ...],
    examples: dict[str, tuple[Article, ...]],
    shuffles: int,
) -> tuple[int, tuple[float, float], list[tuple[float, float]]]:
    """(scored count, all-at-once figures, per-shuffle batch figures)."""
    held = {a.source for exs in examples.values() for a in exs}
    scored = [a for a in articles if a.source not in held]
    whole = metrics([category(a) for a in scored], predict(scored, themes, examples, None))
    batches = []
    for seed in range(shuffles):
        order = sorted(scored, key=lambda a: a.source)
        random.Random(seed).shuffle(order)
        batches.append(
            metrics([category(a) for a in order], predict(order, themes, examples, BATCH))
        )
    return len(scored), whole, batches


def quality(articles: list[Article], shuffles: int, draws: int) -> None:
    themes_a = tuple(Theme(name, keywords=kws) for name, kws in KEYWORDS.values())
    by_cat: dict[str, list[Article]] = {}
    for a in sorted(articles, key=lambda a: a.source):
        by_cat.setdefault(category(a), []).append(a)

    print(f"{'config':<30} {'grouping':<26} {'n':>4} {'accuracy':>9} {'macro-F1':>9}")
    n, whole, batches = evaluate(articles, themes_a, {}, shuffles)
    report("(a) name + 5 keywords", n, [whole], batches)
    wholes, all_batches = [], []
    for draw in range(draws):
        examples = draw_examples(by_cat, draw)
        themes_b = tuple(
            replace(t, examples=tuple(a.source for a in examples[t.name])) for t in themes_a
        )
        n, whole, batches = evaluate(articles, themes_b, examples, shuffles)
        wholes.append(whole)
        all_batches += batches
    report(f"(b) + 2 examples ({draws} draws)", n, wholes, all_batches)
    ceiling(articles)


def ceiling(articles: list[Article]) -> None:
    """What the article representation allows at best: every other article
    labelled, each article given the category whose centroid (itself left
    out) it is closest to, or the one a ridge classifier trained on the
    others picks. No theme text, no examples: a bound, not a run."""
    import numpy as np

    from digest.classify import article_counts, build_space

    space = build_space([article_counts(a) for a in articles])
    rows = np.array([space.dense_row(i) for i in range(len(articles))])
    gold = [category(a) for a in articles]
    for name, pred in bounds(rows, gold).items():
        acc, f1 = metrics(gold, pred)
        row(
            "(c) bound: others labelled" if name == "nearest centroid" else "",
            name,
            len(gold),
            acc,
            f1,
        )


def bounds(rows: Any, gold: list[str]) -> dict[str, list[str]]:
    """Leave-one-out predictions from unit-length ``rows`` with every other
    row labelled: nearest centroid, and one-vs-rest ridge regression (lambda
    1, solved in its dual form)."""
    import numpy as np

    cats = sorted(set(gold))
    sums = {c: rows[[g == c for g in gold]].sum(axis=0) for c in cats}

    def closeness(i: int, c: str) -> float:
        centroid = sums[c] - (rows[i] if c == gold[i] else 0.0)
        return float(rows[i] @ centroid) / (float(np.linalg.norm(centroid)) or 1.0)

    nearest = [max(cats, key=lambda c: closeness(i, c)) for i in range(len(gold))]
    kernel = rows @ rows.T
    target = np.array([[g == c for c in cats] for g in gold], dtype=float)
    ridge = []
    for i in range(len(gold)):
        rest = np.arange(len(gold)) != i
        alpha = np.linalg.solve(kernel[np.ix_(rest, rest)] + np.eye(int(rest.sum())), target[rest])
        ridge.append(cats[int(np.argmax(kernel[i, rest] @ alpha))])
    return {"nearest centroid": nearest, "ridge classifier": ridge}


def report(
    label: str, n: int, wholes: list[tuple[float, float]], batches: list[tuple[float, float]]
) -> None:
    for grouping, runs in (("all at once", wholes), (f"batches of {BATCH}", batches)):
        accs = [r[0] for r in runs]
        f1s = [r[1] for r in runs]
        row(label, f"{grouping}, mean", n, sum(accs) / len(accs), sum(f1s) / len(f1s))
        label = ""
        if len(runs) > 1:
            row("", f"{grouping}, worst", n, min(accs), min(f1s))


def row(label: str, grouping: str, n: int, acc: float, f1: float) -> None:
    print(f"{label:<30} {grouping:<24} {n:>4} {acc:>9.3f} {f1:>9.3f}")


def variants(articles: list[Article], n: int) -> list[Article]:
    """``n`` articles: the dev texts repeated, each copy missing a different
    number of leading paragraphs."""
    many = []
    for i in range(n):
        a = articles[i % len(articles)]
        paras = a.paragraphs[(i // len(articles)) % 3 :] or a.paragraphs
        many.append(replace(a, source=f"{a.source}#{i}", paragraphs=paras, theme=None))
    return many


def group_all(articles: list[Article]) -> None:
    themes = tuple(Theme(name, keywords=kws) for name, kws in KEYWORDS.values())
    group(classify(articles, themes, THRESHOLD, OTHER), themes, OTHER)


def speed(articles: list[Article], data: Path, n: int = 1000) -> None:
    """Cold: a fresh interpreter that has loaded and cleaned the articles
    times its first grouping (importing numpy, reading the shipped word
    tables and stemming every new word included); the median of three, as
    wall time and as CPU time (all threads of the process: on a shared
    machine the wall time also counts waiting for a core).
    Warm: the best of five groupings in this process."""
    import subprocess

    code = (
        "import sys, time; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from bench.themes import read, variants, group_all;"
        "many = variants(read(Path(sys.argv[2])), int(sys.argv[3]));"
        "t, c = time.perf_counter(), time.process_time(); group_all(many);"
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    walls, cpus = [], []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code, str(ROOT), str(data), str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        wall, cpu = out.stdout.strip().splitlines()[-1].split()
        walls.append(float(wall))
        cpus.append(float(cpu))
    many = variants(articles, n)
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        group_all(many)
        warm.append(time.perf_counter() - t0)
    print(
        f"grouping {n} articles: {sorted(walls)[1]:.3f} s cold "
        f"({sorted(cpus)[1]:.3f} s CPU; median of 3 fresh processes), "
        f"{min(warm):.3f} s warm (best of 5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5, help="shuffles for the batch runs")
    parser.add_argument("--draws", type=int, default=5, help="draws of examples for (b)")
    parser.add_argument(
        "--keywords",
        choices=("main", "alt"),
        default="main",
        help="the keyword set: main, or alt (written independently, a cross-check)",
    )
    parser.add_argument("--no-speed", action="store_true", help="quality figures only")
    args = parser.parse_args()
    if args.keywords == "alt":
        KEYWORDS.clear()
        KEYWORDS.update(KEYWORDS_ALT)
    articles = read(args.data)
    print(f"{len(articles)} articles from {args.data}")
    print(f"keywords: {args.keywords}")
    quality(articles, args.seeds, args.draws)
    if not args.no_speed:
        speed(articles, args.data)


if __name__ == "__main__":
    main()
