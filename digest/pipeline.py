"""``build(config)``: the stages in order, top to bottom.

load -> clean -> summarize -> select the period -> merge duplicates ->
classify -> group -> number the issue -> render. Every stage takes values
and returns new ones; only ``load`` reads and ``deliver`` writes.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clean import clean, parse_date
from .config import Config
from .errors import DigestError
from .load import Web, count_files, finish, iter_load, load, read_archive
from .model import Article, Digest, Document, Rendered, Section
from .nlp import SUMY_LANGUAGES, Tokenizer
from .period import Window, issue_key, select
from .summarize import get_summarizer, summarize, warm_up

if TYPE_CHECKING:
    from .archive import Archive
    from .classify import Bag
    from .dedupe import Prints

# The later stages (dedupe, classify, render, check, deliver, archive) are
# imported where they are used: a parallel build imports them while its
# workers summarize (see ``tail_imports``), not before the workers start.


def tail_imports() -> None:
    """Import the modules of the stages after summarizing."""
    from . import archive, check, classify, dedupe, deliver, render  # noqa: F401


@dataclass(frozen=True)
class BuildResult:
    digest: Digest
    rendered: Rendered
    warnings: tuple[str, ...]
    archive: Archive | None = None  # the issue record with this issue in it; None if undated
    site: Rendered = field(default_factory=Rendered)  # index.html, feed.xml with --archive


def period_of(articles: Sequence[Article]) -> str:
    """ "November 2024", "October – November 2024", or "" when nothing is dated."""
    dates = sorted(a.date for a in articles if a.date)
    if not dates:
        return ""
    first, last = dates[0], dates[-1]
    if (first.year, first.month) == (last.year, last.month):
        return f"{last:%B %Y}"
    if first.year == last.year:
        return f"{first:%B} – {last:%B %Y}"
    return f"{first:%B %Y} – {last:%B %Y}"


def make_digest(
    sections: tuple[Section, ...], config: Config, issue: int | None = None, key: str = ""
) -> Digest:
    articles = [a for s in sections for a in s.items]
    nl = config.newsletter
    period = nl.period or period_of(articles)
    languages = Counter(a.language for a in articles)
    language = nl.language or (languages.most_common(1)[0][0] if languages else "en")
    name = f"{nl.name} #{issue}" if issue else nl.name
    title = f"{name} – {period}" if period else name
    return Digest(
        title=title,
        period=period,
        intro=nl.intro,
        sections=sections,
        language=language,
        issue=issue,
        key=key,
    )


def web_of(config: Config, window: Window | None = None) -> Web:
    """The download settings of ``[build]``; ``--fetch-full`` skips entries
    dated outside ``window``."""
    b = config.build
    return Web(
        timeout=b.timeout,
        max_feed_bytes=b.max_feed_bytes,
        fetch_full=b.fetch_full,
        user_agent=b.user_agent,
        since=window.since.isoformat() if window and window.since else "",
        until=window.until.isoformat() if window and window.until else "",
    )


# (done, total) after each article is summarized; the CLI draws a progress bar.
Progress = Callable[[int, int], None]

# Below this many articles per worker, starting workers costs more than it saves.
MIN_PER_WORKER = 24
# BLAS libraries start a thread per core in every worker unless told not to.
BLAS_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def workers_for(jobs: int, n: int) -> int:
    """How many worker processes to use: ``jobs`` (0 = all cores), fewer for small inputs."""
    wanted = jobs if jobs > 0 else (os.cpu_count() or 1)
    return max(1, min(wanted, n // MIN_PER_WORKER))


def start_method() -> str:
    """``fork`` (workers start at once, nothing to re-import) when this process
    has a single thread; ``spawn`` when other threads exist (a preview server,
    say), since a fork can copy a lock another thread holds."""
    import multiprocessing
    import threading

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def single_threaded_blas() -> None:
    """One BLAS thread in this process, unless the user set a count.

    digest multiplies small matrices, where more BLAS threads only spin:
    summarizing 1,000 articles in one process took 2.8 s of CPU for 1.6 s
    of work, and the spinning threads take the cores the workers need."""
    if not any(var in os.environ for var in BLAS_THREAD_VARS):
        _one_blas_thread()


def _one_blas_thread() -> None:
    for var in BLAS_THREAD_VARS:
        os.environ[var] = "1"
    if "numpy" in sys.modules:  # loaded already: the variables come too late
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)


def _start_worker(summarizer: str) -> None:
    """Worker initializer: one BLAS thread, then import what summarizing needs.

    Ctrl-C goes to the whole process group; a worker leaves it to the build
    process, which stops handing out work and waits for the chunks under
    way (otherwise each idle worker prints a KeyboardInterrupt traceback)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked around the fork (Workers.start)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _one_blas_thread()
    warm_up(summarizer)


@dataclass
class Workers:
    """A pool of worker processes and its size."""

    pool: Any  # concurrent.futures.ProcessPoolExecutor
    size: int

    @classmethod
    def start(cls, size: int, summarizer: str) -> Workers:
        """Start ``size`` workers now, ready to summarize while this process
        goes on (loading, say). Forked workers inherit what summarizing
        imports (numpy, sumy: 0.2 s); spawned ones import it themselves."""
        import multiprocessing
        import signal
        from concurrent.futures import ProcessPoolExecutor

        method = start_method()
        if method == "fork":  # imported once here, not once per worker (measured faster)
            warm_up(summarizer)
        ctx = multiprocessing.get_context(method)
        # Ctrl-C while a worker is being forked would interrupt it before it
        # can ignore the signal: hold the signal back until they are started
        # (a Ctrl-C meanwhile reaches this process right after)
        held = hasattr(signal, "pthread_sigmask")
        if held:
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pool = ProcessPoolExecutor(
                size, mp_context=ctx, initializer=_start_worker, initargs=(summarizer,)
            )
            pool.submit(int)  # the first task starts the processes
        finally:
            if held:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return cls(pool, size)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class Features:
    """What dedupe and classify will ask of an article, worked out by the
    worker that summarized it (the parent would otherwise do it alone, later)."""

    bag: Bag  # stem -> weight (classify)
    shingles: Prints  # (dedupe)


# What a worker hands back for a document: the summarized article (None when
# the document turned out not to be one), its features, and warnings.
Done = tuple[Article | None, Features | None, tuple[str, ...]]


@dataclass(frozen=True)
class SummaryJob:
    """What a worker needs to turn a loaded document into a summarized article."""

    summarizer: str
    sentences: int
    max_sentences: int
    window: Window = field(default_factory=Window)  # dates kept; other articles need no summary
    features: bool = False  # also work out the article's Features

    def __call__(self, doc: Document) -> Done:
        loaded, notes = finish(doc)  # a web page's article is extracted here
        if loaded is None:
            return None, None, notes
        article = clean(loaded)
        if not self.wanted(article):
            # outside the window, or undated with one: ``select`` drops it
            return article, None, notes
        if article.language not in SUMY_LANGUAGES:
            article = keep_whole(article, self.max_sentences)
        else:
            article = summarize(article, self.summarizer, self.sentences, self.max_sentences)
        if not self.features:
            return article, None, notes
        from .classify import counted
        from .dedupe import fingerprint

        return article, Features(counted(article)[0], fingerprint(article)), notes

    def wanted(self, article: Article) -> bool:
        """Will ``select`` keep ``article``? (The same test, made early.)"""
        return not self.window.limited or article.date in self.window


def keep_whole(article: Article, cap: int) -> Article:
    """An article in a language without summarization rules (stop words): its
    sentences, all of them up to ``cap``. ``collect`` warns about it."""
    tok = Tokenizer(article.language)
    sentences = [s for p in article.paragraphs for s in tok.to_sentences(p)]
    return replace(article, summary=tuple(sentences[:cap]))


def remember(results: Sequence[tuple[Article, Features | None]]) -> None:
    """Keep the articles' features where dedupe and classify will look for them.

    The embeddings need the word vectors, which this process loads anyway
    and the workers need not: they are worked out here, a chunk at a time,
    as results come back."""
    from . import classify, dedupe

    done = [(a, f) for a, f in results if f is not None]
    for language in dict.fromkeys(a.language for a, _ in done):
        group = [(a, f) for a, f in done if a.language == language]
        embedded = classify.embed_many([f.bag for _, f in group], language)
        for k, (article, features) in enumerate(group):
            vector = embedded[k] if embedded is not None else None
            classify.remember(article, features.bag, vector)
            dedupe.remember(article, features.shingles)


# Beyond this many articles, features worked out ahead would not all be kept.
# (classify.COUNTS_KEPT and dedupe.SHINGLES_KEPT are as large)
FEATURES_KEPT = 2048


def forget_features() -> None:
    """Drop the remembered features once a build is classified (a preview
    server builds again and again; the memory is better given back)."""
    from . import classify, dedupe

    dedupe.forget()
    classify.forget()


def language_warnings(articles: Sequence[Article]) -> list[str]:
    return [
        f"{a.source}: no summarization rules for language '{a.language}'; "
        "the article is kept whole (set 'language:' in its front matter if this is wrong)"
        for a in articles
        if a.language not in SUMY_LANGUAGES
    ]


def unique(articles: Sequence[Article], warnings: list[str]) -> list[Article]:
    """Drop an article whose text repeats an earlier one (the same file twice)."""
    seen: dict[str, str] = {}  # the text, spaces normalised -> the first source
    out = []
    for a in articles:
        key = " ".join((a.title + "\n" + a.body).split())
        if key in seen:
            warnings.append(f"{a.source}: same article as {seen[key]}; skipped")
            continue
        seen[key] = a.source
        out.append(a)
    return out


def prepare(
    docs: Sequence[Document],
    job: SummaryJob,
    jobs: int = 0,
    progress: Progress | None = None,
    idle: Callable[[], object] | None = None,
    workers: Workers | None = None,
    warnings: list[str] | None = None,
) -> list[Article]:
    """Clean and summarize every document, in input order, on up to ``jobs`` processes.

    The result does not depend on ``jobs``: each article is handled alone and
    results are collected in input order. With worker processes, each worker
    also works out its articles' :class:`Features`, which this process keeps
    for dedupe and classify, so they are not worked out again after the
    workers are done. ``workers``: a pool already started (the caller closes
    it); otherwise one is started here when there are enough documents.
    Warnings (a deferred web page that holds no article) go to ``warnings``,
    in input order.
    """
    n = len(docs)
    if workers_for(jobs, n) == 1:
        return _collect_progress(map(job, docs), n, progress, warnings=warnings)
    if workers is not None:
        return prepare_stream(docs, job, workers, n, progress, idle, False, warnings)
    workers = Workers.start(workers_for(jobs, n), job.summarizer)
    try:
        return prepare_stream(docs, job, workers, n, progress, idle, False, warnings)
    finally:
        workers.close()


REMEMBER_CHUNK = 32  # results whose features are kept together


def prepare_stream(
    docs: Iterable[Document],
    job: SummaryJob,
    workers: Workers,
    expected: int,
    progress: Progress | None = None,
    idle: Callable[[], object] | None = None,
    estimate: bool = True,
    warnings: list[str] | None = None,
) -> list[Article]:
    """:func:`prepare` on running workers, handing them documents as they
    are read (``docs`` may be a generator); ``expected`` is how many there
    are, or with ``estimate`` about how many (for chunk sizes and the
    progress bar)."""
    if expected <= FEATURES_KEPT:
        job = replace(job, features=True)
    chunk = max(1, min(32, expected // (workers.size * 8)))
    results = _in_order(workers.pool, job, docs, chunk, IN_FLIGHT * workers.size)
    return _collect_progress(
        results, expected, progress, idle or (lambda: None), estimate, warnings
    )


IN_FLIGHT = 4  # chunks handed out per worker ahead of the results collected


def _run_chunk(job: SummaryJob, docs: list[Document]) -> list[Done]:
    return [job(d) for d in docs]


def _in_order(
    pool: Any, job: SummaryJob, docs: Iterable[Document], chunk: int, ahead: int
) -> Iterator[Done]:
    """``job`` of each document on ``pool``, in input order, with at most
    ``ahead`` chunks given out and not yet collected: documents are read as
    the workers need them, not all at once (a page is kept whole until its
    worker extracts it; a folder of thousands would otherwise sit in memory)."""
    from collections import deque
    from itertools import islice

    it = iter(docs)
    given: deque[Any] = deque()

    def give() -> None:
        batch = list(islice(it, chunk))
        if batch:
            given.append(pool.submit(_run_chunk, job, batch))

    for _ in range(ahead):
        give()
    while given:
        done = given.popleft().result()
        give()
        yield from done


def _collect_progress(
    results: Iterator[Done],
    n: int,
    progress: Progress | None,
    idle: Callable[[], object] | None = None,
    estimate: bool = False,
    warnings: list[str] | None = None,
) -> list[Article]:
    """The articles in input order; ``idle`` is called once, after the first
    one arrives, with work this process can do while the workers go on.
    ``estimate``: ``n`` is only about the number of results."""
    out: list[Article] = []
    languages: set[str] = set()
    pending: list[tuple[Article, Features | None]] = []
    done = 0
    for article, features, notes in results:
        done += 1
        if warnings is not None:
            warnings.extend(notes)
        if article is not None:
            if idle is not None and article.language not in languages:
                languages.add(article.language)
                if len(languages) == 1:
                    tail_imports()
                from .classify import warm as warm_classify

                warm_classify(article.language)
                if len(languages) == 1:
                    idle()
            pending.append((article, features))
            if len(pending) >= REMEMBER_CHUNK:
                remember(pending)
                pending = []
            out.append(article)
        if progress is not None and not estimate:
            progress(done, n)
        elif progress is not None and done > 1:
            # each count is shown when the next result comes, so that the
            # last one can be shown with the true total
            progress(done - 1, max(n, done))
    remember(pending)
    if progress is not None and estimate and done:
        progress(done, done)
    return out


def collect(
    config: Config,
    sources: Sequence[str] | None = None,
    jobs: int = 0,
    progress: Progress | None = None,
    window: Window | None = None,
) -> tuple[list[Article], list[str]]:
    """Load, clean and summarize the articles; problems with single files become warnings.

    With a ``window``, a document whose front matter or feed entry dates it
    outside the window is not cleaned or summarized: it stays in the list as
    a bare dated stub (for the counts of an empty selection), which
    ``select`` then leaves out. A document that cleaning finds dated outside
    the window, or undated, is cleaned but not summarized: ``select`` leaves
    it out too.
    """
    b, s = config.build, config.summary
    # Enough files for workers: start them now, so that they import what
    # summarizing needs while this process reads the files.
    expected = count_files(sources or b.sources)
    size = workers_for(jobs, expected)
    workers = Workers.start(size, s.summarizer) if size > 1 else None
    try:
        return _collect(config, sources, jobs, progress, window, workers, expected)
    finally:
        if workers is not None:
            workers.close()


def _collect(
    config: Config,
    sources: Sequence[str] | None,
    jobs: int,
    progress: Progress | None,
    window: Window | None,
    workers: Workers | None,
    expected: int = 0,
) -> tuple[list[Article], list[str]]:
    b, s = config.build, config.summary
    where = sources or b.sources
    warnings: list[str] = []
    # web pages are extracted where they are summarized (in the workers)
    stream = iter_load(
        where, warnings, b.max_article_bytes, web_of(config, window), defer_pages=True
    )
    outside: list[Article] = []

    def kept() -> Iterator[Document]:
        """The documents as they are read, less those whose metadata dates
        them outside the window: each of those becomes a bare dated stub."""
        for d in stream:
            if window is not None and window.limited:
                day = parse_date(d.get("date") or "")
                if day is not None and day not in window:
                    outside.append(Article(source=d.source, title="", paragraphs=(), date=day))
                    continue
            yield d

    job = SummaryJob(s.summarizer, s.sentences, s.max_sentences, window or Window())

    # while the workers summarize, compile the templates the build will render
    def idle() -> None:
        from .render import warm as warm_templates

        warm_templates(config.templates.dir)

    # the workers' own warnings (a page that holds no article) come after
    # those of reading, whatever the number of workers and however reading
    # and their work interleave
    late: list[str] = []
    if workers is None:
        docs = tuple(kept())
        articles = prepare(docs, job, jobs, progress, idle, warnings=late) if docs else []
    else:  # the workers start on the first documents while the rest are read
        articles = prepare_stream(kept(), job, workers, expected, progress, idle, warnings=late)
    warnings.extend(late)
    if not articles and not outside:  # nothing read, or nothing that was an article
        raise DigestError(
            f"{', '.join(where)}: no articles found",
            hint="add .txt, .md or .html files (see README.md, 'Inputs')",
            details=tuple(warnings),
        )
    articles = unique(articles, warnings)
    warnings.extend(language_warnings(articles))
    # the stubs come last; ``select`` leaves them out, they only count
    return articles + outside, warnings


def loaded(config: Config, sources: Sequence[str] | None) -> tuple[list[Article], list[str]]:
    """Load and clean (no summaries: grouping reads the whole article)."""
    b = config.build
    docs, load_warnings = load(sources or b.sources, b.max_article_bytes, web_of(config))
    if not docs:
        where = ", ".join(sources or config.build.sources)
        raise DigestError(
            f"{where}: no articles found",
            hint="add .txt, .md or .html files (see README.md, 'Inputs')",
            details=load_warnings,
        )
    warnings = list(load_warnings)
    return unique([clean(d) for d in docs], warnings), warnings


def load_examples(config: Config) -> tuple[dict[str, tuple[Article, ...]], list[str]]:
    """Each theme's ``examples``, loaded and cleaned like the articles."""
    examples: dict[str, tuple[Article, ...]] = {}
    warnings: list[str] = []
    for theme in config.themes:
        for path in theme.examples:
            if not Path(path).exists():
                raise DigestError(
                    f"{config.path or 'config'}: example {path} of theme "
                    f"'{theme.name}' does not exist",
                    hint="fix themes.examples (paths are relative to the config file)",
                )
        if theme.examples:
            docs, load_warnings = load(theme.examples, config.build.max_article_bytes)
            warnings.extend(load_warnings)
            examples[theme.name] = tuple(clean(d) for d in docs)
    return examples, warnings


def assign_themes(
    config: Config, articles: Sequence[Article], explain: bool = True
) -> tuple[list[Article], list[str]]:
    """Classify ``articles`` against the config's themes and examples;
    ``explain``: also find each article's deciding words (``digest themes``)."""
    examples, warnings = load_examples(config)
    cc = config.classify
    from .classify import classify

    out = classify(articles, config.themes, cc.threshold, cc.other, examples, explain)
    return list(out), warnings


def themes(
    config: Config, sources: Sequence[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """``digest themes``: every article's theme, scores and deciding words."""
    single_threaded_blas()
    articles, warnings = loaded(config, sources)
    overridden = {a.source for a in articles if a.theme}
    classified, more = assign_themes(config, articles)
    cc = config.classify
    from .classify import report

    data = report(classified, config.themes, cc.other, cc.threshold, overridden)
    return data, warnings + more


def suggest_themes(
    config: Config, k: int, sources: Sequence[str] | None = None
) -> tuple[str, list[str]]:
    """``digest themes --suggest K``: K themes clustered from the articles, as TOML."""
    single_threaded_blas()
    articles, warnings = loaded(config, sources)
    from .classify import suggest, suggestion_toml

    return suggestion_toml(suggest(articles, k)), warnings


def build(
    config: Config,
    sources: Sequence[str] | None = None,
    progress: Progress | None = None,
    window: Window | None = None,
    archive: Archive | None = None,
) -> BuildResult:
    """Build the digest in memory: nothing is written.

    ``window`` limits the articles to dates (``--month``, ``--since``,
    ``--until``); ``archive`` is the record of past issues, which gives this
    issue its number (a fresh series when ``None``).
    """
    get_summarizer(config.summary.summarizer)  # fail fast on a bad name
    single_threaded_blas()
    window = window or Window()
    articles, warnings = collect(config, sources, config.build.jobs, progress, window)
    try:
        return _build_rest(config, articles, warnings, window, archive)
    except DigestError as exc:
        # the problems found along the way still concern the user (unless
        # they are the error's own details already: --strict)
        if not exc.details:
            exc.warnings = tuple(warnings) + exc.warnings
        raise


def _build_rest(
    config: Config,
    articles: list[Article],
    warnings: list[str],
    window: Window,
    archive: Archive | None,
) -> BuildResult:
    """:func:`build` after collecting: select, dedupe, group, render, check."""
    # imported here, after summarizing (see tail_imports)
    from . import archive as archives
    from .check import check_files
    from .classify import group
    from .dedupe import dedupe
    from .render import render

    archive = archive or archives.Archive()
    articles, period_warnings = select(articles, window)
    warnings += period_warnings
    articles = dedupe(articles)
    # (the deciding words are for ``digest themes``: no output of a build shows them)
    articles, example_warnings = assign_themes(config, articles, explain=False)
    forget_features()
    warnings += example_warnings
    sections = group(articles, config.themes, config.classify.other)
    key = issue_key(articles, window)
    digest = make_digest(sections, config, archive.number_for(key) if key else None, key)
    newsletter = config.newsletter
    if key and config.archive.base_url:
        newsletter = replace(
            newsletter, archive_url=archives.issue_url(config.archive.base_url, key)
        )
    rendered = render(digest, newsletter, config.templates.dir or None, config.email)
    warnings.extend(rendered.warnings)
    warnings.extend(
        f"{f.rule}: {f.detail}" + (" (an error for digest check)" if f.level == "error" else "")
        for f in check_files(dict(rendered.files), config)
    )
    record = archives.record_of(digest, config.archive.enabled)
    updated = archive.with_issue(record) if key else None
    site = Rendered()
    if config.archive.enabled:
        if updated is None:
            raise DigestError(
                "cannot archive an issue with no dated article",
                hint="date the articles, or pass --month YYYY-MM",
            )
        base = config.archive.base_url
        index = archives.index_html(updated, newsletter, base, config.templates.dir)
        site = Rendered(
            files=(
                ("index.html", index.encode("utf-8")),
                ("feed.xml", archives.atom_feed(updated, newsletter, base)),
            )
        )
    if config.build.strict and warnings:
        raise DigestError(
            f"{len(warnings)} warning{'s' * (len(warnings) != 1)} with --strict; "
            "nothing was written",
            hint="fix the inputs above or drop --strict",
            details=tuple(warnings),
        )
    return BuildResult(
        digest=digest, rendered=rendered, warnings=tuple(warnings), archive=updated, site=site
    )


def build_to(
    config: Config,
    out: str,
    sources: Sequence[str] | None = None,
    progress: Progress | None = None,
    window: Window | None = None,
) -> BuildResult:
    """Build and write the files into ``out`` atomically.

    With ``archive.enabled`` the issue also goes into ``<out>/YYYY-MM/`` with
    ``index.html`` and ``feed.xml``. ``archive.json`` (the issue numbers) is
    part of the same swap, so a number is kept only with its issue.
    """
    result = build(config, sources, progress, window, read_archive(out))
    from . import archive as archives
    from . import deliver

    files = list(result.rendered.files)
    if config.archive.enabled:
        files += deliver.archive_files(result.digest.key, result.rendered, result.site)
    if result.archive is not None:
        data = archives.to_json(result.archive).encode("utf-8")
        files.append((archives.ARCHIVE_FILE, data))
    # One swap of the whole folder: out/ holds the previous issue or this one,
    # never the digest of one and the archive of the other.
    try:
        deliver.write_files(out, Rendered(files=tuple(files)))
    except DigestError as exc:
        exc.warnings = result.warnings + exc.warnings
        raise
    return result
