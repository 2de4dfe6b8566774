from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import shutil

import feedparser
import pytest

from digest.config import Config, load_config
from digest.errors import DigestError
from digest.period import Window, month_window, select
from digest.pipeline import MIN_PER_WORKER, build, build_to, collect, workers_for
from tests.conftest import CORPUS, stall

TOPICS = [
    ("hospital", "The city hospital opened a new cancer ward for {n} patients on Monday."),
    ("school", "The district school board approved a budget of {n} million for new classrooms."),
    ("harbour", "The harbour authority reported {n} ships docking during the spring season."),
]


def corpus(folder, n: int) -> list[str]:
    """``n`` small distinct articles; returns the folder as a SOURCES list."""
    folder.mkdir()
    for i in range(n):
        topic, lead = TOPICS[i % len(TOPICS)]
        body = [
            lead.format(n=i + 10),
            f"Officials said the {topic} project number {i} would be finished next year.",
            f"It was welcomed by residents of district {i % 7}.",
            f"Critics of the {topic} plan questioned its cost in a meeting on Tuesday.",
            f"The {topic} plan will be reviewed again in {2025 + i % 4}.",
        ]
        text = f"{topic.title()} news number {i}\n\n" + "\n\n".join(body) + "\n"
        (folder / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    return [str(folder)]


def with_jobs(jobs: int) -> Config:
    c = Config()
    return dataclasses.replace(c, build=dataclasses.replace(c.build, jobs=jobs))


def test_small_builds_stay_in_one_process_and_big_ones_use_the_cores():
    assert workers_for(8, 5) == 1
    assert workers_for(2, 10 * MIN_PER_WORKER) == 2
    assert workers_for(1, 10_000) == 1
    assert workers_for(0, 10_000) >= 1


def test_output_is_byte_identical_whatever_the_number_of_jobs(tmp_path):
    sources = corpus(tmp_path / "in", 3 * MIN_PER_WORKER)
    assert workers_for(3, 3 * MIN_PER_WORKER) == 3  # really runs on worker processes
    one = build(with_jobs(1), sources).rendered
    three = build(with_jobs(3), sources).rendered
    assert one.files == three.files
    assert len(one.get("digest.json")) > 1000


def html_corpus(folder, n: int) -> list[str]:
    """``n`` small distinct web pages (a headline, a byline, paragraphs)."""
    folder.mkdir()
    for i in range(n):
        topic, lead = TOPICS[i % len(TOPICS)]
        paragraphs = "".join(
            f"<p>{text}</p>"
            for text in (
                lead.format(n=i + 10),
                f"Officials said the {topic} project number {i} would be finished next year, "
                f"after a review of its costs by the council and the residents of district {i}.",
                f"Critics of the {topic} plan questioned its cost in a long meeting on Tuesday, "
                "and asked for the figures to be published before the next vote.",
            )
        )
        (folder / f"{i:03d}.html").write_text(
            f"<html><head><title>{topic.title()} news number {i} | Example News</title></head>"
            f"<body><nav><a href='/'>Home</a></nav><article><h1>{topic.title()} news number {i}"
            f"</h1>{paragraphs}</article></body></html>",
            encoding="utf-8",
        )
    return [str(folder)]


def test_web_pages_are_read_in_the_workers_with_the_same_output_and_warnings(tmp_path):
    """A web page's article is extracted where it is summarized (the slow
    part of loading, spread over the workers); output and warnings are
    those of a single process, and a page with no article is a warning."""
    n = 2 * MIN_PER_WORKER
    sources = html_corpus(tmp_path / "in", n)
    (tmp_path / "in" / "000-photo.html").write_text(
        "<html><head><title>Photo</title></head><body><img src='a.png'></body></html>",
        encoding="utf-8",
    )
    # read last, refused while reading: its warning must not change places
    # with the workers' ones, whatever the number of workers
    (tmp_path / "in" / "zzz.txt").write_bytes(b"\x00\x01binary\x00")
    one = build(with_jobs(1), sources)
    two = build(with_jobs(2), sources)
    assert one.rendered.files == two.rendered.files
    assert one.warnings == two.warnings
    photo = [w for w in two.warnings if "000-photo.html" in w]
    assert len(photo) == 1
    assert photo[0].endswith(
        "000-photo.html: no article text found in this HTML page; skipped "
        "(save the article page itself, not an index or a login page)"
    )
    articles, warnings = collect(with_jobs(2), sources, 2)
    assert [a.title for a in articles] == [
        f"{TOPICS[i % 3][0].title()} news number {i}" for i in range(n)
    ]
    assert photo[0] in warnings


def test_a_folder_of_pages_none_of_them_an_article_is_one_clear_error(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.html").write_text(f"<html><body><img src='{i}.png'></body></html>")
    with pytest.raises(DigestError) as err:
        build(with_jobs(1), [str(folder)])
    assert "no articles found" in err.value.message
    assert len(err.value.details) == 3 and all("skipped" in d for d in err.value.details)


def test_articles_keep_the_input_order_and_get_summaries(tmp_path):
    sources = corpus(tmp_path / "in", 2 * MIN_PER_WORKER)
    seen: list[tuple[int, int]] = []
    articles, _ = collect(with_jobs(2), sources, 2, lambda done, total: seen.append((done, total)))
    assert [a.title for a in articles] == [
        f"{TOPICS[i % 3][0].title()} news number {i}" for i in range(2 * MIN_PER_WORKER)
    ]
    assert all(len(a.summary) == 3 for a in articles)
    assert seen[-1] == (2 * MIN_PER_WORKER, 2 * MIN_PER_WORKER)
    assert [d for d, _ in seen] == list(range(1, 2 * MIN_PER_WORKER + 1))


def test_progress_ends_at_the_true_count_when_files_are_skipped(tmp_path):
    """Workers start before the files are read, sized by a count of the
    files; files that turn out not to be articles do not leave the
    progress bar short of its end."""
    n = 2 * MIN_PER_WORKER
    sources = corpus(tmp_path / "in", n)
    for i in range(10):
        (tmp_path / "in" / f"notes{i}.xyz").write_text("not an article", encoding="utf-8")
    seen: list[tuple[int, int]] = []
    articles, warnings = collect(with_jobs(2), sources, 2, lambda d, t: seen.append((d, t)))
    assert len(articles) == n
    assert sum("not an article format" in w for w in warnings) == 10
    assert [d for d, _ in seen] == list(range(1, n + 1))
    assert seen[-1] == (n, n)
    assert all(d < t for d, t in seen[:-1])  # no early end of the bar


def test_an_error_in_a_worker_keeps_its_message_and_hint(tmp_path):
    sources = corpus(tmp_path / "in", 2 * MIN_PER_WORKER)
    config = with_jobs(2)
    config = dataclasses.replace(
        config, summary=dataclasses.replace(config.summary, summarizer="nope")
    )
    with pytest.raises(DigestError) as err:
        collect(config, sources, 2)
    assert "unknown summarizer 'nope'" in err.value.message
    assert "lexrank" in (err.value.hint or "")


def test_a_build_started_from_a_thread_uses_fresh_workers_and_the_same_output(tmp_path):
    import threading

    from digest.pipeline import start_method

    sources = corpus(tmp_path / "in", 2 * MIN_PER_WORKER)
    expected = build(with_jobs(1), sources).rendered
    got: dict[str, object] = {}

    def run() -> None:
        got["method"] = start_method()
        got["rendered"] = build(with_jobs(2), sources).rendered

    t = threading.Thread(target=run)
    t.start()
    t.join(120)
    assert got["method"] == "spawn"
    assert got["rendered"] == expected


# What each month's issue must hold: (source, title), by the sources' names.
EXPECTED = {
    "2024-09": {
        ("months/sep-report.md", "Nurses from Manila train in Los Angeles"),
        ("months/sep-text.txt", "Hospital ships return to Southeast Asian ports"),
        ("months/news.atom#1", "Telemedicine links rural clinics in Kenya"),
    },
    "2024-10": {
        ("months/oct-note.md", "A new agreement on cancer research with Seoul"),
        ("months/news.atom#2", "Japan and Vietnam expand training for surgeons"),
        ("months/news.rss#1", "Brazil opens a centre for tropical disease research"),
    },
    "2024-11": {
        ("months/nov-text.txt", "Health ministers meet in Geneva on vaccine supply"),
        ("months/news.atom#3", "Malaria cases fall after bed net campaign"),  # + news.rss#2
    },
}


@pytest.fixture
def three_months(tmp_path, monkeypatch):
    shutil.copytree(CORPUS, tmp_path / "months")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def items(out):
    data = json.loads((out / "digest.json").read_text(encoding="utf-8"))
    return data, [i for s in data["sections"] for i in s["items"]]


def archived_config() -> Config:
    return Config().with_overrides(
        {"archive.enabled": True, "archive.base_url": "https://news.example.org/digest/"}
    )


def test_three_months_make_three_issues_with_exactly_their_articles(three_months):
    config = archived_config()
    for number, month in enumerate(EXPECTED, 1):
        result = build_to(config, "out", ["months"], window=month_window(month))
        assert any("months/undated.txt: undated" in w for w in result.warnings)
        data, its = items(three_months / "out" / month)
        assert {(i["source"], i["title"]) for i in its} == EXPECTED[month]
        assert all(i["date"].startswith(month) for i in its)
        assert data["issue"] == number
        assert data["title"] == f"International Health Digest #{number} – {data['period']}"
    # the same story in the Atom and the RSS feed is one item, with an "also in" link
    _, nov = items(three_months / "out" / "2024-11")
    malaria = next(i for i in nov if i["source"] == "months/news.atom#3")
    assert malaria["also_in"] == [
        {
            "label": "Health Policy Daily",
            "url": "https://www.wire.example.com/malaria-nets/?fbclid=abc123",
        }
    ]
    html = (three_months / "out" / "2024-11" / "digest.html").read_text(encoding="utf-8")
    assert "Issue 3 · November 2024" in html
    assert "Also in:" in html and "Health Policy Daily</a>" in html
    assert 'href="https://news.example.org/digest/2024-11/digest.html"' in html  # view in browser
    eml = (three_months / "out" / "2024-11" / "digest.eml").read_bytes()
    msg = email.message_from_bytes(eml, policy=email.policy.default)
    assert msg["Subject"] == "International Health Digest #3 – November 2024"
    text = (three_months / "out" / "digest.txt").read_text(encoding="utf-8")
    assert "Issue 3 · November 2024" in text


def test_feed_xml_reads_back_with_the_issues_and_index_is_newest_first(three_months):
    config = archived_config()
    for month in EXPECTED:
        build_to(config, "out", ["months"], window=month_window(month))
    feed = feedparser.parse((three_months / "out" / "feed.xml").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [
        "International Health Digest #3 – November 2024",
        "International Health Digest #2 – October 2024",
        "International Health Digest #1 – September 2024",
    ]
    assert [e.link for e in feed.entries] == [
        f"https://news.example.org/digest/{m}/digest.html"
        for m in ("2024-11", "2024-10", "2024-09")
    ]
    assert "Malaria cases fall after bed net campaign" in feed.entries[0].summary
    index = (three_months / "out" / "index.html").read_text(encoding="utf-8")
    positions = [index.index(f'href="{m}/digest.html"') for m in ("2024-11", "2024-10", "2024-09")]
    assert positions == sorted(positions)
    for month in EXPECTED:
        assert {p.name for p in (three_months / "out" / month).iterdir()} == {
            "digest.html",
            "digest.txt",
            "digest.json",
            "digest.eml",
        }


def test_issue_numbers_stay_when_builds_are_repeated(three_months):
    config = archived_config()
    for month in EXPECTED:
        build_to(config, "out", ["months"], window=month_window(month))
    before = (three_months / "out" / "archive.json").read_bytes()
    feed_before = (three_months / "out" / "feed.xml").read_bytes()
    for month in ("2024-10", "2024-09", "2024-11"):
        build_to(config, "out", ["months"], window=month_window(month))
    assert (three_months / "out" / "archive.json").read_bytes() == before
    assert (three_months / "out" / "feed.xml").read_bytes() == feed_before
    assert items(three_months / "out" / "2024-10")[0]["issue"] == 2
    # a plain build (no --archive) keeps the numbers too
    build_to(Config(), "out", ["months"], window=month_window("2024-09"))
    assert items(three_months / "out")[0]["issue"] == 1
    assert (three_months / "out" / "archive.json").read_bytes() == before


def test_an_empty_month_says_so_and_writes_nothing(three_months):
    with pytest.raises(DigestError) as err:
        build_to(archived_config(), "out", ["months"], window=month_window("2024-12"))
    assert "no articles for December 2024" in err.value.message
    assert "nothing written" in err.value.message
    assert not (three_months / "out").exists()


def test_a_failing_feed_url_is_a_warning_and_the_rest_builds(three_months, http_server):
    http_server.routes["/down.xml"] = (500, {"Content-Type": "text/plain"}, b"")
    http_server.routes["/stall.xml"] = stall
    config = Config().with_overrides({"build.timeout": 0.5})
    sources = [http_server.url("/down.xml"), "months", http_server.url("/stall.xml")]
    result = build_to(config, "out", sources, window=month_window("2024-10"))
    assert len(result.digest.articles) == 3
    assert f"{http_server.url('/down.xml')}: HTTP 500 Internal Server Error; skipped" in "\n".join(
        result.warnings
    )
    assert any("/stall.xml: no response within 0.5 s" in w for w in result.warnings)


def test_feeds_served_over_http_build_like_files(three_months, http_server):
    http_server.routes["/news.atom"] = (
        200,
        {"Content-Type": "application/atom+xml"},
        (CORPUS / "news.atom").read_bytes(),
    )
    result = build(Config(), [http_server.url("/news.atom")], window=month_window("2024-09"))
    assert [a.title for a in result.digest.articles] == [
        "Telemedicine links rural clinics in Kenya"
    ]


def test_undated_seeds_are_reported_and_the_stated_date_is_found(root, monkeypatch):
    monkeypatch.chdir(root)
    result = build(load_config(str(root / "digest.toml")), ["seeds"], window=Window())
    dates = {a.source: a.date for a in result.digest.articles}
    assert str(dates["seeds/003_eaef6d1132e96ddd.txt"]) == "2024-11-16"
    undated = sorted(s for s, d in dates.items() if d is None)
    assert undated == [
        "seeds/000_6b7b2fddc07a1cb0.txt",
        "seeds/001_65abf81002b92a89.txt",
        "seeds/002_e1c23eef024fd075.txt",
        "seeds/004_f6c0a198d215912c.txt",
    ]
    for source in undated:
        assert any(w.startswith(f"{source}: undated") for w in result.warnings)
    assert result.digest.issue == 1 and result.digest.key == "2024-11"


def test_the_default_build_does_not_import_nltk(root, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from digest.config import Config\n"
        "from digest.pipeline import build\n"
        f"build(Config(), [{str(root / 'seeds')!r}])\n"
        "print('nltk' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_articles_dated_outside_the_month_by_their_metadata_are_not_summarized(three_months):
    articles, _ = collect(Config(), ["months"], 1, None, month_window("2024-09"))
    by_source = {a.source: a for a in articles}
    assert len(by_source) == 10  # every document is still counted
    skipped = by_source["months/oct-note.md"]
    assert (skipped.title, skipped.summary, str(skipped.date)) == ("", (), "2024-10-03")
    assert by_source["months/sep-report.md"].summary  # inside the month: summarized
    # dated only in its text: cleaned (that is where the date is found), not summarized
    text_dated = by_source["months/nov-text.txt"]
    assert text_dated.title and str(text_dated.date).startswith("2024-11")
    assert text_dated.summary == ()
    assert by_source["months/undated.txt"].summary == ()  # select leaves it out too
    # the same articles in the digest as when every article is summarized
    every = collect(Config(), ["months"], 1)[0]
    assert [a.summary for a in select(every, month_window("2024-09"))[0]] == [
        a.summary for a in select(articles, month_window("2024-09"))[0]
    ]


BLAS_PROBE = """
import sys
from digest.config import Config
from digest.pipeline import build
build(Config(), [sys.argv[1]])
from threadpoolctl import threadpool_info
print(max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"))
"""


@pytest.mark.parametrize(("user", "expected"), [(None, "1"), ("2", "2")])
def test_a_build_runs_blas_on_one_thread_unless_the_user_says(tmp_path, user, expected):
    """Extra BLAS threads only spin on digest's small matrices, taking the
    cores the workers need; a count the user set is kept."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from digest.pipeline import BLAS_THREAD_VARS

    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARS}
    if user:
        env["OPENBLAS_NUM_THREADS"] = user
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    sources = corpus(tmp_path / "in", 3)
    done = subprocess.run(
        [sys.executable, "-c", BLAS_PROBE, sources[0]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip() == expected


def test_workers_leave_ctrl_c_to_the_build_process():
    """Ctrl-C reaches the whole process group; a worker ignores it (no
    traceback per idle worker), and the build process stops the pool."""
    import os
    import signal
    import time

    from digest.pipeline import Workers

    workers = Workers.start(2, "auto")
    try:
        assert workers.pool.submit(sum, [1, 2]).result(timeout=60) == 3
        pids = list(workers.pool._processes)  # the worker processes
        for pid in pids:
            os.kill(pid, signal.SIGINT)
        time.sleep(0.2)
        assert workers.pool.submit(sum, [3, 4]).result(timeout=60) == 7
        assert all(p.is_alive() for p in workers.pool._processes.values())
    finally:
        workers.close()


def test_documents_are_read_as_the_workers_need_them_not_all_at_once(tmp_path):
    """A folder of thousands of pages must not sit in memory waiting for
    workers: documents are handed out a few chunks ahead of the results."""
    from digest.load import load
    from digest.pipeline import SummaryJob, Workers, _in_order

    sources = corpus(tmp_path / "in", 120)
    docs, _ = load(sources)
    pulled = 0

    def reading():
        nonlocal pulled
        for d in docs:
            pulled += 1
            yield d

    workers = Workers.start(2, "auto")
    try:
        results = _in_order(workers.pool, SummaryJob("auto", 3, 60), reading(), 4, 3)
        first = next(results)
        assert pulled <= 3 * 4 + 4  # the chunks given ahead, and one more
        rest = list(results)
    finally:
        workers.close()
    assert pulled == 120
    assert [a.title for a, _, _ in [first, *rest]] == [clean_title(d) for d in docs]


def clean_title(doc) -> str:
    from digest.clean import clean

    return clean(doc).title
