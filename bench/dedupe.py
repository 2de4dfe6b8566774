"""Duplicate merging: speed and how many planted duplicates are found.

    /work/venv/bin/python bench/dedupe.py [--sizes 100,300,1000]

For each size N: N distinct synthetic articles (600 words drawn from a
5,000-word vocabulary, Zipf-like), plus N/10 planted copies of three kinds,
each from another source: the same story under a tracking URL
(``?utm_source=...``), a feed summary (the first 40% of the text, no URL),
and a lightly edited copy (one word in 20 replaced, no URL). Prints the
time of ``dedupe`` and, per kind, how many copies were merged into their
original (recall), and how many distinct articles were wrongly merged.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.dedupe import dedupe
from digest.model import Article


def corpus(n: int, seed: int = 1) -> tuple[list[Article], dict[str, str]]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    originals = []
    for i in range(n):
        words = rng.choices(vocab, weights, k=600)
        body = " ".join(words) + "."
        originals.append(
            Article(
                source=f"orig{i}.txt",
                title=f"Story {i}",
                paragraphs=(body,),
                url=f"https://news.example.org/story/{i}",
                publisher=f"orig{i}.txt",
            )
        )
    kinds: dict[str, str] = {}  # copy source -> kind
    copies = []
    for k, i in enumerate(rng.sample(range(n), max(3, n // 10))):
        o = originals[i]
        kind = ("tracking-url", "feed-summary", "edited")[k % 3]
        words = o.paragraphs[0].split()
        if kind == "tracking-url":
            body, url = o.paragraphs[0], f"{o.url}?utm_source=feed&fbclid=x{k}"
        elif kind == "feed-summary":
            body, url = " ".join(words[: int(len(words) * 0.4)]), None
        else:
            words = [rng.choice(words) if j % 20 == 7 else w for j, w in enumerate(words)]
            body, url = " ".join(words), None
        source = f"copy{k}-of-{i}.txt"
        kinds[source] = kind
        copies.append(
            Article(source=source, title=o.title, paragraphs=(body,), url=url, publisher=source)
        )
    return originals + copies, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300,1000")
    args = parser.parse_args()
    kinds_header = "found per kind (tracking-url, feed-summary, edited)"
    print(f"{'N':>6} {'seconds':>8}  {kinds_header:<52} false merges")
    for n in (int(s) for s in args.sizes.split(",")):
        articles, kinds = corpus(n)
        start = time.perf_counter()
        out = dedupe(articles)
        took = time.perf_counter() - start
        found = {kind: 0 for kind in ("tracking-url", "feed-summary", "edited")}
        total = {kind: 0 for kind in found}
        for kind in kinds.values():
            total[kind] += 1
        false = 0
        for a in out:
            members = [a.publisher or a.source] + [link.label for link in a.also_in]
            origin = [int(m.rsplit("-of-", 1)[-1].removeprefix("orig")[:-4]) for m in members]
            false += sum(1 for o in origin if o != origin[0])
            for m, o in zip(members, origin, strict=True):
                if m in kinds and (f"orig{o}.txt" in members and all(x == o for x in origin)):
                    found[kinds[m]] += 1
        per_kind = ", ".join(f"{found[k]}/{total[k]}" for k in found)
        print(f"{n:>6} {took:>8.2f}  {per_kind:<52} {false}")


if __name__ == "__main__":
    main()
