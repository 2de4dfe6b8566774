"""Theme grouping quality and speed on the BBC dev set.

    /work/venv/bin/python bench/themes.py [--data DIR] [--seeds N] [--keywords main|alt]
                                          [--misses] [--variants]

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

``--misses`` lists every article grouped wrongly in some run: how often in
each setting, and what the two bounds say, so one can read whether the
misses are cross-topic stories no representation settles. ``--variants``
prints the (c) bounds again with the representation changed (the share of
the word vectors, the title's weight) and with a k-nearest-neighbour vote.

Speed: grouping (classify + group, background statistics loaded cold) of
1,000 articles, the dev texts repeated with small variations, after they
were loaded and cleaned; loading and summarizing are not counted.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
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


# source -> setting -> [runs grouped wrongly, runs scored, predictions made]
Tally = dict[str, dict[str, list[Any]]]


def _count(
    tally: Tally | None, setting: str, articles: list[Article], predicted: list[str]
) -> None:
    if tally is None:
        return
    for a, p in zip(articles, predicted, strict=True):
        cell = tally.setdefault(a.source, {}).setdefault(setting, [0, 0, Counter()])
        cell[0] += p != category(a)
        cell[1] += 1
        cell[2][p] += 1


def evaluate(
    articles: list[Article],
    themes: tuple[Theme, ...],
    examples: dict[str, tuple[Article, ...]],
    shuffles: int,
    tally: Tally | None = None,
    setting: str = "",
) -> tuple[int, tuple[float, float], list[tuple[float, float]]]:
    """(scored count, all-at-once figures, per-shuffle batch figures).
    ``tally``, when given, records each article's outcome under ``setting``."""
    held = {a.source for exs in examples.values() for a in exs}
    scored = [a for a in articles if a.source not in held]
    predicted = predict(scored, themes, examples, None)
    _count(tally, f"{setting} all", scored, predicted)
    whole = metrics([category(a) for a in scored], predicted)
    batches = []
    for seed in range(shuffles):
        order = sorted(scored, key=lambda a: a.source)
        random.Random(seed).shuffle(order)
        predicted = predict(order, themes, examples, BATCH)
        _count(tally, f"{setting} batches", order, predicted)
        batches.append(metrics([category(a) for a in order], predicted))
    return len(scored), whole, batches


def quality(
    articles: list[Article], shuffles: int, draws: int, tally: Tally | None = None
) -> dict[str, list[str]]:
    """Print the figures; return the (c) bounds' predictions (by method)."""
    themes_a = tuple(Theme(name, keywords=kws) for name, kws in KEYWORDS.values())
    by_cat: dict[str, list[Article]] = {}
    for a in sorted(articles, key=lambda a: a.source):
        by_cat.setdefault(category(a), []).append(a)

    print(f"{'config':<30} {'grouping':<26} {'n':>4} {'accuracy':>9} {'macro-F1':>9}")
    n, whole, batches = evaluate(articles, themes_a, {}, shuffles, tally, "(a)")
    report("(a) name + 5 keywords", n, [whole], batches)
    wholes, all_batches = [], []
    for draw in range(draws):
        examples = draw_examples(by_cat, draw)
        themes_b = tuple(
            replace(t, examples=tuple(a.source for a in examples[t.name])) for t in themes_a
        )
        n, whole, batches = evaluate(articles, themes_b, examples, shuffles, tally, "(b)")
        wholes.append(whole)
        all_batches += batches
    report(f"(b) + 2 examples ({draws} draws)", n, wholes, all_batches)
    return ceiling(articles)


def ceiling(
    articles: list[Article], label: str = "(c) bound: others labelled"
) -> dict[str, list[str]]:
    """What the article representation allows at best: every other article
    labelled, each article given the category whose centroid (itself left
    out) it is closest to, or the one a ridge classifier trained on the
    others picks. No theme text, no examples: a bound, not a run."""
    import numpy as np

    from digest.classify import article_counts, build_space

    space = build_space([article_counts(a) for a in articles])
    rows = np.array([space.dense_row(i) for i in range(len(articles))])
    gold = [category(a) for a in articles]
    found = bounds(rows, gold)
    for name, pred in found.items():
        acc, f1 = metrics(gold, pred)
        row(label, name, len(gold), acc, f1)
        label = ""
    return found


def bounds(rows: Any, gold: list[str], knn: int = 0) -> dict[str, list[str]]:
    """Leave-one-out predictions from unit-length ``rows`` with every other
    row labelled: nearest centroid, one-vs-rest ridge regression (lambda
    1, solved in its dual form), and with ``knn`` > 0 a vote of the ``knn``
    most similar rows, each weighing its similarity."""
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
    found = {"nearest centroid": nearest, "ridge classifier": ridge}
    if knn:
        near = kernel - 2.0 * np.eye(len(gold))  # never one's own neighbour
        votes = []
        for i in range(len(gold)):
            top = np.argsort(-near[i], kind="stable")[:knn]
            weight = {c: sum(float(near[i, j]) for j in top if gold[j] == c) for c in cats}
            votes.append(max(cats, key=lambda c: weight[c]))
        found[f"{knn}-nearest vote"] = votes
    return found


def misses(articles: list[Article], tally: Tally, found: dict[str, list[str]]) -> None:
    """Each article grouped wrongly in some run: the runs that got it wrong
    out of those that scored it, per setting; what most wrong runs said;
    what the bounds said ("-" where right)."""
    order = sorted(articles, key=lambda a: a.source)
    by_source = {a.source: i for i, a in enumerate(articles)}
    settings = ["(a) all", "(a) batches", "(b) all", "(b) batches"]
    methods = list(found)
    print()
    print(
        "misses: runs wrong / runs scored; 'said' is the commonest wrong theme; bounds '-' if right"
    )
    head = f"{'article':<22} {'gold':<14}" + "".join(f"{s:>12}" for s in settings)
    print(head + f"  {'said':<14}" + "".join(f"{m.split()[0][:8]:>9}" for m in methods) + "  title")
    both, hard_runs = 0, 0
    for a in order:
        cells = tally.get(a.source, {})
        if not any(c[0] for c in cells.values()):
            continue
        gold = category(a)
        wrong: Counter[str] = Counter()
        for c in cells.values():
            wrong.update({k: v for k, v in c[2].items() if k != gold})
        said = wrong.most_common(1)[0][0] if wrong else "-"
        i = by_source[a.source]
        marks = [found[m][i] if found[m][i] != gold else "-" for m in methods]
        if all(found[m][i] != gold for m in methods):
            both += 1
            hard_runs += cells.get("(b) all", [0, 0])[1]
        line = f"{Path(a.source).parent.name + '/' + Path(a.source).name:<22} {gold:<14}"
        line += "".join(
            f"{(str(cells[s][0]) + '/' + str(cells[s][1])) if s in cells else '':>12}"
            for s in settings
        )
        line += f"  {said:<14}" + "".join(f"{m[:8]:>9}" for m in marks)
        print(line + "  " + " ".join(a.title.split())[:40])
    runs = sum(t["(b) all"][1] for t in tally.values() if "(b) all" in t)
    print(f"{both} of them are missed by every bound, with all other articles labelled.")
    if runs:
        print(
            "Were those always wrong and all others right, (b) all at once would reach "
            f"{1 - hard_runs / runs:.3f} (mean over the draws)."
        )


def variants_of_bound(articles: list[Article]) -> None:
    """The (c) bounds again, with one part of the representation changed at
    a time, and a 10-nearest-neighbour vote: does any change lift what two
    examples could at best reach?"""
    import numpy as np

    from digest import classify as c
    from digest.classify import article_counts, build_space

    gold = [category(a) for a in articles]
    print()
    print("(c) bounds with the representation changed (one at a time)")
    kept = c.SEMANTIC, c.TITLE_WEIGHT
    changes = [
        ("as shipped", {}),
        ("word vectors off", {"SEMANTIC": 0.0}),
        ("word-vector share 0.5", {"SEMANTIC": 0.5}),
        ("word vectors only", {"SEMANTIC": 1.0}),
        ("title weight 1", {"TITLE_WEIGHT": 1.0}),
        ("title weight 6", {"TITLE_WEIGHT": 6.0}),
    ]
    try:
        for label, change in changes:
            c.SEMANTIC, c.TITLE_WEIGHT = kept
            for key, value in change.items():
                setattr(c, key, value)
            c.forget()  # the counts remember the title weight
            space = build_space([article_counts(a) for a in articles])
            rows = np.array([space.dense_row(i) for i in range(len(articles))])
            for k, (name, pred) in enumerate(bounds(rows, gold, knn=10).items()):
                acc, f1 = metrics(gold, pred)
                row(label if k == 0 else "", name, len(gold), acc, f1)
    finally:
        c.SEMANTIC, c.TITLE_WEIGHT = kept
        c.forget()


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
    parser.add_argument("--misses", action="store_true", help="list the articles grouped wrongly")
    parser.add_argument(
        "--variants", action="store_true", help="the (c) bounds with the representation changed"
    )
    args = parser.parse_args()
    if args.keywords == "alt":
        KEYWORDS.clear()
        KEYWORDS.update(KEYWORDS_ALT)
    articles = read(args.data)
    print(f"{len(articles)} articles from {args.data}")
    print(f"keywords: {args.keywords}")
    tally: Tally | None = {} if args.misses else None
    found = quality(articles, args.seeds, args.draws, tally)
    if tally is not None:
        misses(articles, tally, found)
    if args.variants:
        variants_of_bound(articles)
    if not args.no_speed:
        speed(articles, args.data)


if __name__ == "__main__":
    main()
