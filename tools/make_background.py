"""Regenerate digest/data/background_<lang>.txt.gz, the background English
term statistics the classify stage ships with.

The source is the general-purpose word frequency list of the ``wordfreq``
package (PyPI; its "large" list blends Wikipedia, subtitles, news, books,
web text and more). Nothing here looks at any evaluation set. Each line of
the output is ``stem centibels``: the Snowball stem of a group of words and
-100 * log10 of their summed frequency (so 300 means one word in a thousand).

    pip install 'wordfreq==3.1.1'
    python tools/make_background.py            # writes English
    python tools/make_background.py en de fr   # other languages too

The data of wordfreq is licensed CC BY-SA 4.0; so is the derived table (see
digest/data/README.md).
"""

from __future__ import annotations

import gzip
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIN_FREQUENCY = 1e-7  # zipf 2: rarer words are all "rare" to the classifier
_WORD = re.compile(r"[^\W\d_]+")


def table(language: str) -> list[tuple[str, int]]:
    import wordfreq

    from digest.nlp import stemmer

    stem = stemmer(language)
    freq: dict[str, float] = {}
    for word, f in wordfreq.get_frequency_dict(language, "large").items():
        if not _WORD.fullmatch(word):
            continue
        s = stem(word.lower())
        freq[s] = freq.get(s, 0.0) + f
    return sorted((s, round(-100 * math.log10(f))) for s, f in freq.items() if f >= MIN_FREQUENCY)


def main(languages: list[str]) -> None:
    for language in languages or ["en"]:
        rows = table(language)
        text = "".join(f"{s} {c}\n" for s, c in rows).encode("utf-8")
        out = ROOT / "digest" / "data" / f"background_{language}.txt.gz"
        # mtime=0: the same input gives the same bytes
        out.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
        print(f"{out.relative_to(ROOT)}: {len(rows)} stems, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
