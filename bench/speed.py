"""Wall time and peak memory of `digest build` on 10, 100 and 1,000 articles,
against stock single-process sumy LexRank on the same texts, in the same run.

    python bench/speed.py [--sizes 10,100,1000] [--jobs N] [--source DIR]

The articles are made from the bbc-dev texts (``shared/eval/bbc-dev`` beside
the checkout, or --source): each text as it is, then varied copies with
wording of their own, so no two are duplicates (see :func:`make_corpus`).
Each measurement is its own subprocess:

- ``python -m digest build DIR -o OUT --summarizer auto`` (everything:
  load, clean, summarize, classify, render, write);
- a script that runs sumy's ``LexRankSummarizer`` with sumy's own ``Stemmer``
  and stop words, over ``PlaintextParser`` and digest's offline tokenizer
  (the same sentence splitter), 3 sentences per article, in one process.

Peak memory is the largest resident set of one process (``getrusage`` of the
reaped child) and, for the build, also the sum over the process tree
(sampled from /proc every 100 ms), since workers run beside the parent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LEXRANK = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from sumy.nlp.stemmers import Stemmer
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.utils import get_stop_words
from digest.nlp import Tokenizer

tokenizer = Tokenizer("en")
summarizer = LexRankSummarizer(Stemmer("english"))
summarizer.stop_words = get_stop_words("english")
n = 0
for path in sorted(Path(sys.argv[1]).glob("*.txt")):
    parser = PlaintextParser.from_string(path.read_text(encoding="utf-8"), tokenizer)
    n += len(summarizer(parser.document, 3))
print(n)
"""


STAGES = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from digest import pipeline
from digest.config import Config
spent = {}
def timed(name, fn):
    def run(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
    return run
import digest.check, digest.dedupe, digest.render
# build() looks the later stages up in their own modules when it reaches them
where = {"dedupe": digest.dedupe, "render": digest.render, "check_files": digest.check}
names = ["collect", "clean", "summarize", "select", "dedupe", "assign_themes", "render",
         "check_files"]
for name in names:
    module = where.get(name, pipeline)
    setattr(module, name, timed(name, getattr(module, name)))
config = Config().with_overrides({"build.jobs": int(sys.argv[3])})
t0 = time.perf_counter()
pipeline.build(config, [sys.argv[1]])
total = time.perf_counter() - t0
for name in names:
    if name in spent:
        print(f"  {name:<14} {spent[name]:6.2f} s")
print(f"  {'build()':<14} {total:6.2f} s")
"""


def default_source() -> Path:
    for base in (ROOT.parent / "shared", ROOT.parent.parent / "shared", Path("/work/shared")):
        if (base / "eval" / "bbc-dev" / "articles").is_dir():
            return base / "eval" / "bbc-dev" / "articles"
    return ROOT.parent / "shared" / "eval" / "bbc-dev" / "articles"


def _mark(k: int) -> str:
    """A short letter suffix for copy ``k`` (1 -> "a", 26 -> "z", 27 -> "aa")."""
    out = ""
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(97 + r) + out
    return out


def make_corpus(source: Path, n: int, into: Path) -> None:
    """``n`` distinct articles from the texts under ``source``.

    The first copy of each text is the article itself. Copy k > 0 numbers the
    headline, rotates the paragraphs after the lead by k and gives every
    second long word a suffix of its own ("profit" -> "profitc"): the same
    sentence structure and length, but vocabulary and wording of its own, so
    no two files are duplicates that ``digest build`` would merge, and no
    cache sees the same words a thousand times.
    """
    import re

    texts = [p.read_text(encoding="utf-8") for p in sorted(source.rglob("*.txt"))]
    if not texts:
        raise SystemExit(f"{source}: no .txt articles")
    long_word = re.compile(r"\b([a-z]{5,})\b")
    into.mkdir(parents=True)
    for i in range(n):
        copy, k = divmod(i, len(texts))
        title, _, body = texts[k].partition("\n\n")
        paras = [p for p in body.split("\n\n") if p.strip()]
        if copy:
            r = copy % max(len(paras) - 1, 1)
            paras = [paras[0], *paras[1:][r:], *paras[1:][:r]]
            mark = _mark(copy)
            seen = [0]

            def vary(m: re.Match[str], mark: str = mark, seen: list[int] = seen) -> str:
                seen[0] += 1
                return m.group(1) + mark if seen[0] % 2 else m.group(1)

            paras = [long_word.sub(vary, p) for p in paras]
            title = f"{title} ({copy + 1})"
        (into / f"{i:05d}.txt").write_text(title + "\n\n" + "\n\n".join(paras), encoding="utf-8")


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * page
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB of one process, peak RSS MB of the tree)."""
    t0 = time.perf_counter()
    # a file, not a pipe: a build with many warnings would block on a full pipe
    err_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after wait4
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err_file.seek(0)
    err = err_file.read().decode(errors="replace")[-2000:]
    err_file.close()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024, peak / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--jobs", type=int, default=0, help="digest build --jobs (0: all cores)")
    ap.add_argument("--source", type=Path, default=None)
    ap.add_argument("--no-lexrank", action="store_true", help="skip the sumy baseline")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="best of N runs of each, taking turns, and each turn's ratio (default 1)",
    )
    ap.add_argument(
        "--stages",
        action="store_true",
        help="then time each stage of build() on the largest size, in one process",
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    source = args.source or default_source()
    py = sys.executable
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    print(f"cores: {os.cpu_count()}, jobs: {args.jobs or 'all'}, texts from {source}")
    print(
        f"{'articles':>8} {'build s':>8} {'marginal':>9} {'max RSS MB':>10} {'tree MB':>8}"
        f" {'lexrank s':>9} {'ratio':>6}"
    )
    print("(marginal: seconds per article added since the previous size; flat = linear)")
    prev: tuple[int, float] | None = None
    tmp = Path(tempfile.mkdtemp(prefix="digest-speed-"))
    try:
        for n in sizes:
            corpus = tmp / f"in{n}"
            make_corpus(source, n, corpus)
            cmd = [py, "-m", "digest", "build", str(corpus), "-o", str(tmp / f"out{n}")]
            cmd += ["--summarizer", "auto"]
            if args.jobs:
                cmd += ["--jobs", str(args.jobs)]
            # the build and the baseline take turns, so that a change in the
            # machine's speed during the run weighs on both alike
            lexrank = [py, "-c", LEXRANK, str(corpus), str(ROOT)]
            runs, lexes = [], []
            for _ in range(max(1, args.repeat)):
                runs.append(run(cmd, env))
                if not args.no_lexrank:
                    lexes.append(run(lexrank, env)[0])
            wall = min(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            tree = max(r[2] for r in runs)
            marginal = (wall - prev[1]) / (n - prev[0]) if prev and n > prev[0] else wall / n
            prev = (n, wall)
            line = f"{n:>8} {wall:>8.2f} {marginal:>9.4f} {rss:>10.0f} {tree:>8.0f}"
            if lexes:
                lex = min(lexes)
                line += f" {lex:>9.2f} {wall / lex:>6.2f}"
            print(line, flush=True)
            if len(lexes) > 1:
                # the machine's speed drifts (this VM's LexRank time has ranged
                # 6.4-9.4 s within an hour): each turn's own ratio tells how much
                paired = sorted(r[0] / x for r, x in zip(runs, lexes, strict=True))
                print(
                    f"{'':>8} ratio of each turn (build / LexRank right after): "
                    + " ".join(f"{x:.2f}" for x in paired)
                    + f"; median {statistics.median(paired):.2f}",
                    flush=True,
                )
        if args.stages:
            n = sizes[-1]
            print(
                f"stages of build() on {n} articles, --jobs 1 (collect includes clean, summarize):"
            )
            out = subprocess.run(
                [py, "-c", STAGES, str(tmp / f"in{n}"), str(ROOT), "1"],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            print(out.stdout, end="")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
