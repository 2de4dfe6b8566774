"""The committed out/ is exactly what a fresh build of seeds/ gives, and
tests/golden/ what a small fixed digest renders to.

Regenerate both with `make golden` (or `pytest --update-golden`) and review
the diff.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

from digest.config import Config, EmailConfig, load_config
from digest.load import read_archive
from digest.model import Digest, Section
from digest.pipeline import build
from digest.render import render_with_source
from tests.helpers import article

SENTENCES = (
    "Researchers in three countries agreed on Tuesday to share hospital data on rare diseases.",
    "The agreement covers twelve hospitals and is expected to shorten diagnosis by months.",
    "Patients' groups welcomed the plan but asked for strict limits on who may see the records.",
)


def test_fresh_build_of_seeds_matches_committed_out(root, monkeypatch, update_golden):
    monkeypatch.chdir(root)
    # the committed archive.json gives the issue its number, as in `digest build`
    archive = read_archive(str(root / "out"))
    result = build(load_config(str(root / "digest.toml")), ["seeds"], archive=archive)
    for name, data in result.rendered.files:
        committed = root / "out" / name
        if update_golden:
            committed.write_bytes(data)
            continue
        assert committed.is_file(), f"out/{name} is not committed; run `make golden`"
        assert committed.read_bytes() == data, (
            f"out/{name} differs from a fresh build; run `make golden`"
        )


def test_build_is_deterministic(root, tmp_path, monkeypatch):
    shutil.copytree(root / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    first = build(load_config(str(root / "digest.toml")), ["seeds"]).rendered
    second = build(load_config(str(root / "digest.toml")), ["seeds"]).rendered
    assert first == second


def test_golden_fixture_renders_as_committed(root, update_golden):
    """tests/golden/: the .mjml, .html and .txt of a small fixed digest.
    Regenerate with `pytest --update-golden` (or `make golden`)."""
    a = article(
        "Hospitals share data & plans",
        summary=SENTENCES[:2],
        url="https://news.example.org/a?id=1",
        date="2024-11-03",
        author="Ana Pérez",
        publisher="Example News",
        source="a.txt",
    )
    b = article("Clinic opens <new> wing", summary=SENTENCES[2:], source="b.txt")
    d = Digest(
        title="Golden – November 2024",
        period="November 2024",
        intro="A small fixed digest for the golden files.",
        sections=(Section("Health", (a,)), Section("Other", (b,))),
    )
    cfg = Config()
    newsletter = replace(
        cfg.newsletter,
        name="Golden News",
        address="1 Example Street",
        unsubscribe_url="https://example.org/u",
        archive_url="https://example.org/archive",
        logo_url="https://example.org/logo.png",
    )
    email = EmailConfig(utm_source="newsletter", text_fragments=True)
    rendered, mjml = render_with_source(d, newsletter, None, email)
    outputs = {
        "digest.mjml": mjml.encode(),
        "digest.html": rendered.get("digest.html"),
        "digest.txt": rendered.get("digest.txt"),
    }
    folder = root / "tests" / "golden"
    for name, data in outputs.items():
        path = folder / name
        if update_golden:
            folder.mkdir(exist_ok=True)
            path.write_bytes(data)
            continue
        assert path.is_file(), f"tests/golden/{name} missing; run pytest --update-golden"
        assert path.read_bytes() == data, f"tests/golden/{name} differs; run pytest --update-golden"
