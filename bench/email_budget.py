"""The email against its budget and `digest check`, on real and on large digests.

    python bench/email_budget.py [--source DIR] [--sizes 100,300,1000,3000]

For seeds/, for every article under --source (default: shared/eval/bbc-dev/
articles beside the checkout, if it is there) and for synthetic digests of
--sizes articles (the bbc-dev texts copied with numbered titles; with no
source, generated sentences), it builds with the repository's digest.toml
and prints: articles, digest.html bytes (budget email.max_html_bytes, Gmail
clips at 102,000), what was cut to fit, `digest check` errors and warnings,
the plain text's longest line (URLs excepted), and the wall time of the build.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.check import check_files  # noqa: E402
from digest.config import load_config  # noqa: E402
from digest.pipeline import build  # noqa: E402


def default_source() -> Path | None:
    for candidate in (
        ROOT.parent / "shared" / "eval" / "bbc-dev" / "articles",
        ROOT.parent.parent / "shared" / "eval" / "bbc-dev" / "articles",
    ):
        if candidate.is_dir():
            return candidate
    return None


def synthetic(n: int, source: Path | None, folder: Path) -> Path:
    folder.mkdir(parents=True)
    texts = sorted(source.rglob("*.txt")) if source else []
    for i in range(n):
        if texts:
            lines = texts[i % len(texts)].read_text(encoding="utf-8").splitlines()
            title, body = lines[0], "\n".join(lines[1:])
        else:
            title = "Hospitals agree on a data plan"
            body = (
                "Researchers in three countries agreed on Tuesday to share hospital data. "
                "The agreement covers twelve hospitals and should shorten diagnosis by months. "
                "Patients' groups welcomed the plan but asked for strict limits on access.\n"
            )
        (folder / f"{i:05d}.txt").write_text(f"{title} (copy {i})\n\n{body}\n", encoding="utf-8")
    return folder


def measure(label: str, sources: list[str]) -> None:
    config = load_config(str(ROOT / "digest.toml"))
    start = time.perf_counter()
    result = build(config, sources)
    seconds = time.perf_counter() - start
    files = dict(result.rendered.files)
    findings = check_files(files, config)
    errors = [f for f in findings if f.level == "error"]
    warnings = [f for f in findings if f.level == "warning"]
    text = files["digest.txt"].decode()
    widest = max(
        (len(line) for line in text.splitlines() if "://" not in line and "mailto:" not in line),
        default=0,
    )
    fitted = "; ".join(w.split(": ", 1)[1] for w in result.rendered.warnings) or "nothing"
    print(
        f"{label:<22} {len(result.digest.articles):>5} {len(files['digest.html']):>9,} "
        f"{len(errors):>6} {len(warnings):>8} {widest:>6} {seconds:>7.2f}  {fitted}"
    )
    for f in errors:
        print(f"    {f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=default_source())
    parser.add_argument("--sizes", default="300,1000,3000")
    args = parser.parse_args()
    print(
        f"{'digest':<22} {'arts':>5} {'html B':>9} {'errors':>6} {'warnings':>8} "
        f"{'cols':>6} {'secs':>7}  cut to fit"
    )
    measure("seeds", [str(ROOT / "seeds")])
    if args.source:
        measure(args.source.parent.name or "source", [str(args.source)])
    tmp = Path(tempfile.mkdtemp(prefix="digest-bench-email-"))
    try:
        for n in (int(s) for s in args.sizes.split(",") if s.strip()):
            folder = synthetic(n, args.source, tmp / str(n))
            measure(f"synthetic {n}", [str(folder)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
