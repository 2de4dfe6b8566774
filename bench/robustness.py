"""Robustness of the loaders on real-world malformed feeds and HTML pages.

    python bench/robustness.py [--cache DIR] [--no-truncated]

The corpus is the test data of two packages, fetched once from PyPI as
source distributions with pip (``pip download --no-binary :all:``) into
``--cache`` (default: a folder in the system temp dir):

- feedparser 6.0.x: ``tests/`` (well-formed, ill-formed, encoding, entity,
  HTTP, compression and sanitizer cases: about 2,300 files);
- trafilatura 2.3.1: ``tests/resources/`` (saved web pages).

Every file is read through ``digest.load.load`` twice: under its own suffix
(``.xml`` goes to the feed loader) and renamed ``.html`` (the web page
loader), and, unless ``--no-truncated``, a copy cut in half (a broken
download) goes through both again. Every document that loads is then
cleaned and summarized. A refusal (a warning such as "not a feed",
"binary file") is the expected outcome for bad input; a crash is any other
exception. Finally one ``digest build`` runs over every feed file together.

Prints the number of files, loads, documents, refusals and crashes (each
crash with its file and exception), and the slowest load.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PACKAGES = {
    "feedparser==6.0.*": "tests/",
    "trafilatura==2.3.1": "tests/resources/",
}
SKIP_SUFFIXES = {".py", ".pyc", ".cfg", ".toml", ".in", ".rst", ".md"}


def fetch(cache: Path) -> list[Path]:
    """The sdists, downloaded with pip once."""
    cache.mkdir(parents=True, exist_ok=True)
    archives = []
    for spec, _ in PACKAGES.items():
        name = spec.split("=")[0]
        found = sorted(cache.glob(f"{name}-*.tar.gz"))
        if not found:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-binary",
                    ":all:",
                    "--no-deps",
                    "--quiet",
                    spec,
                    "-d",
                    str(cache),
                ],
                check=True,
            )
            found = sorted(cache.glob(f"{name}-*.tar.gz"))
        archives.append(found[-1])
    return archives


def extract(archives: list[Path], dest: Path) -> list[Path]:
    """The test files of each sdist, under ``dest``."""
    files = []
    for archive, (_, prefix) in zip(archives, PACKAGES.items(), strict=True):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                inner = member.name.split("/", 1)[-1]
                if not member.isfile() or not inner.startswith(prefix):
                    continue
                if Path(inner).suffix.lower() in SKIP_SUFFIXES:
                    continue
                data = tar.extractfile(member)
                if data is None:
                    continue
                target = dest / archive.name.split("-")[0] / inner
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data.read())
                files.append(target)
    return sorted(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "digest-corpus")
    parser.add_argument("--no-truncated", action="store_true", help="skip the half-file copies")
    args = parser.parse_args()

    from digest.clean import clean
    from digest.config import Config
    from digest.errors import DigestError
    from digest.load import load
    from digest.pipeline import build
    from digest.summarize import summarize

    archives = fetch(args.cache)
    work = Path(tempfile.mkdtemp(prefix="digest-robustness-"))
    try:
        files = extract(archives, work / "corpus")
        cases: list[tuple[str, bytes, str]] = []  # (label, data, suffix)
        for f in files:
            data = f.read_bytes()
            label = f.relative_to(work / "corpus").as_posix()
            cases.append((label, data, f.suffix.lower() or ".xml"))
            cases.append((label + " as .html", data, ".html"))
            if not args.no_truncated:
                cases.append((label + " cut in half", data[: len(data) // 2], f.suffix or ".xml"))
                cases.append((label + " cut in half, as .html", data[: len(data) // 2], ".html"))

        loads = docs = refused = 0
        crashes: list[str] = []
        slowest = (0.0, "")
        case_dir = work / "case"
        started = time.monotonic()
        for i, (label, data, suffix) in enumerate(cases):
            case_dir.mkdir(exist_ok=True)
            path = case_dir / f"c{i}{suffix}"
            path.write_bytes(data)
            t0 = time.monotonic()
            try:
                loaded, warnings = load([str(path)])
                loads += 1
                refused += len(warnings) > 0 and not loaded
                for doc in loaded:
                    summarize(clean(doc), "auto", 3)
                    docs += 1
            except DigestError as exc:  # load() turns bad files into warnings; this is a bug
                crashes.append(f"{label}: DigestError escaped load(): {exc}")
            except Exception as exc:
                tb = traceback.extract_tb(exc.__traceback__)[-1]
                crashes.append(f"{label}: {type(exc).__name__}: {exc} ({tb.filename}:{tb.lineno})")
            took = time.monotonic() - t0
            if took > slowest[0]:
                slowest = (took, label)
            path.unlink()
        elapsed = time.monotonic() - started

        feeds = work / "feeds"
        feeds.mkdir()
        for f in files:
            if f.suffix.lower() == ".xml":
                shutil.copy(f, feeds / f"{len(list(feeds.iterdir())):04d}.xml")
        t0 = time.monotonic()
        try:
            result = build(Config(), [str(feeds)])
            build_line = (
                f"one build over {len(list(feeds.iterdir()))} feed files: "
                f"{len(result.digest.articles)} articles, {len(result.warnings)} warnings, "
                f"{time.monotonic() - t0:.1f} s"
            )
        except DigestError as exc:
            build_line = f"one build over the feed files: refused: {exc.message}"
        except Exception as exc:
            crashes.append(f"build over all feeds: {type(exc).__name__}: {exc}")
            build_line = "one build over the feed files: CRASHED"

        print(f"corpus: {', '.join(a.name for a in archives)}")
        print(f"files: {len(files)}; loads (each file as itself and as .html", end="")
        print(", whole and cut in half)" if not args.no_truncated else ")", end="")
        print(f": {len(cases)} in {elapsed:.1f} s")
        print(f"documents loaded, cleaned and summarized: {docs}")
        print(f"loads refused with a warning only (no document): {refused}")
        print(f"slowest load: {slowest[0]:.2f} s ({slowest[1]})")
        print(build_line)
        print(f"crashes: {len(crashes)}")
        for line in crashes:
            print(f"  {line}")
        sys.exit(1 if crashes else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
