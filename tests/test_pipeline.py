from __future__ import annotations

import dataclasses

import pytest

from digest.config import Config
from digest.errors import DigestError
from digest.pipeline import MIN_PER_WORKER, build, collect, workers_for

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
