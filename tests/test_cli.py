from __future__ import annotations

import json

from click.testing import CliRunner

from digest.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_build_writes_the_three_files(seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", str(seeds), "-o", "built")
    assert result.exit_code == 0, result.output
    assert "Built 5 articles in 3 sections" in result.output
    data = json.loads((tmp_path / "built" / "digest.json").read_text())
    assert [s["theme"] for s in data["sections"]] == [
        "Diplomacy",
        "Asia recovery",
        "Collaborations",
    ]
    assert {"title", "source", "url", "date", "author", "summary"} <= set(
        data["sections"][0]["items"][0]
    )
    assert (tmp_path / "built" / "digest.html").stat().st_size > 1000
    assert (tmp_path / "built" / "digest.txt").read_text().startswith("INTERNATIONAL HEALTH DIGEST")


def test_sentences_and_summarizer_flags(seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", str(seeds), "-o", "b", "--sentences", "1", "--summarizer", "lsa")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "b" / "digest.json").read_text())
    assert all(len(i["summary"]) == 1 for s in data["sections"] for i in s["items"])


def test_bad_flag_is_a_usage_error():
    result = run("build", "--sentences", "zero")
    assert result.exit_code == 2
    assert "Invalid value for '--sentences'" in result.output


def test_unknown_summarizer_exits_1_with_a_hint(seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", str(seeds), "--summarizer", "magic")
    assert result.exit_code == 1
    assert "error: unknown summarizer 'magic'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_missing_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", "nope")
    assert result.exit_code == 1
    assert "error: nope: no such file or folder" in result.output


def test_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    result = run("build", "empty")
    assert result.exit_code == 1
    assert "empty: no articles found" in result.output
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("--debug", "build", "nope")
    assert result.exit_code == 1
    assert result.exception is not None and "no such file" in str(result.exception)


def test_every_command_has_help():
    for name, command in cli.commands.items():
        assert command.help, name
        assert run(name, "--help").exit_code == 0


def test_preview_rejects_a_bad_port():
    result = run("preview", "--port", "70000", "--no-open")
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output


def test_preview_with_a_missing_config_exits_1_before_serving(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("preview", "-c", "missing.toml", "--no-open", "--port", "0")
    assert result.exit_code == 1
    assert "error: missing.toml: config file not found" in result.output
    assert "Preview at" not in result.output and "Traceback" not in result.output
