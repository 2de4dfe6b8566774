"""Would a sentence-embedding model group bbc-dev better? WordLlama, measured.

    pip install 'wordllama==0.4.0.post1'    # not a dependency of digest
    HF_HUB_OFFLINE=1 python bench/themes_embeddings.py [--data DIR]

WordLlama (MIT) ships its 256-dimension token embeddings and its tokenizer
inside its wheel and needs neither torch nor a network. Its own loader
(0.4.0.post1) looks for the tokenizer in a folder named ``tokenizer`` while
the wheel has ``tokenizers``, and then tries to download it; this script
reads both files from the installed package instead, so nothing is fetched.

Printed: the model's load time and cost per article, then for digest's own
article vectors (tf-idf + word vectors), WordLlama's (mean of the token
embeddings, the batch mean taken out) and both side by side with equal
weight: accuracy and macro-F1 (1) from the theme text alone (each article to
the nearest "name: keywords"), (2) with every other article labelled
(leave-one-out nearest centroid and ridge classifier): the bound any way of
using two examples per category would have to beat.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.themes import DEFAULT_DATA, KEYWORDS, bounds, category, metrics, read, row  # noqa: E402
from digest.classify import article_counts, build_space, theme_counts  # noqa: E402
from digest.model import Article, Theme  # noqa: E402


def wordllama() -> Any:
    """The WordLlama inference object, built from the files in its wheel."""
    try:
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference
    except ImportError:
        sys.exit("needs wordllama: pip install 'wordllama==0.4.0.post1'")
    home = Path(wordllama.__file__).parent
    with safe_open(str(home / "weights" / "l2_supercat_256.safetensors"), framework="np") as f:
        table = f.get_tensor("embedding.weight")
    tokenizer = Tokenizer.from_file(str(home / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    return WordLlamaInference(table, tokenizer)


def unit_rows(x: Any) -> Any:
    import numpy as np

    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def digest_rows(articles: list[Article], themes: list[Theme]) -> tuple[Any, Any]:
    """digest's unit article rows and theme rows, in one space."""
    import numpy as np

    seeds = [theme_counts(t) for t in themes]
    space = build_space([article_counts(a) for a in articles], seeds)
    rows = np.array([space.dense_row(i) for i in range(space.rows)])
    return rows, np.array([space.vector(s) for s in seeds])


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    articles = read(args.data)
    gold = [category(a) for a in articles]
    cats = list(KEYWORDS)
    themes = [Theme(name, keywords=kws) for name, kws in KEYWORDS.values()]
    texts = [f"{a.title}\n{a.body}" for a in articles]
    theme_texts = [f"{t.name}: {', '.join(t.keywords)}" for t in themes]

    t0 = time.perf_counter()
    model = wordllama()
    loaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb = np.asarray(model.embed(texts + theme_texts, norm=True), dtype=float)
    per_article = (time.perf_counter() - t0) / len(texts + theme_texts)
    print(f"WordLlama: loaded in {loaded:.2f} s, {per_article * 1000:.2f} ms per article")

    mean = emb[: len(texts)].mean(axis=0)
    wl_rows, wl_themes = unit_rows(emb[: len(texts)] - mean), unit_rows(emb[len(texts) :] - mean)
    d_rows, d_themes = digest_rows(articles, themes)
    half = np.sqrt(0.5)
    both_rows = np.hstack([half * d_rows, half * wl_rows])
    both_themes = np.hstack([half * d_themes, half * wl_themes])

    print(f"{'articles as':<30} {'decided by':<24} {'n':>4} {'accuracy':>9} {'macro-F1':>9}")
    for label, rows, theme_rows in (
        ("digest (tf-idf + GloVe)", d_rows, d_themes),
        ("WordLlama", wl_rows, wl_themes),
        ("both, equal weight", both_rows, both_themes),
    ):
        zero = [cats[int(k)] for k in np.argmax(rows @ theme_rows.T, axis=1)]
        row(label, "theme text alone", len(gold), *metrics(gold, zero))
        for name, pred in bounds(rows, gold).items():
            row("", f"99 labelled: {name.split()[0]}", len(gold), *metrics(gold, pred))


if __name__ == "__main__":
    main()
