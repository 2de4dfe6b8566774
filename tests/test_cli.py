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


def test_jobs_flag_gives_the_same_files(seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("build", str(seeds), "-o", "one", "--jobs", "1").exit_code == 0
    assert run("build", str(seeds), "-o", "two", "-j", "2").exit_code == 0
    for name in ("digest.html", "digest.txt", "digest.json", "digest.eml"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert run("build", str(seeds), "--jobs", "-1").exit_code == 2


def test_help_and_version_import_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from digest.cli import cli\n"
        "for args in (['--help'], ['--version'], ['build', '--help']):\n"
        "    try:\n"
        "        cli(args, prog_name='digest')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ['numpy', 'sumy', 'nltk', 'jinja2', 'mjml', 'trafilatura', 'sentencex',\n"
        "         'py3langid', 'yaml', 'snowballstemmer', 'digest.pipeline']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


class _Terminal:
    def __init__(self, tty: bool) -> None:
        self.text = ""
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def test_progress_bar_only_on_a_terminal_and_only_for_long_builds(monkeypatch):
    import sys

    from digest.cli import progress_bar

    monkeypatch.setattr(sys, "stderr", _Terminal(False))
    assert progress_bar() is None
    term = _Terminal(True)
    monkeypatch.setattr(sys, "stderr", term)
    draw = progress_bar(minimum=50)
    assert draw is not None
    for i in range(1, 11):
        draw(i, 10)
    assert term.text == ""  # a short build: no bar
    for i in range(1, 201):
        draw(i, 200)
    assert term.text.endswith("200/200\n")
    assert term.text.count("\r") == 101  # redrawn once per percent, not per article


def test_themes_table_shows_every_article_its_scores_and_words(seeds):
    result = run("themes", str(seeds))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["ARTICLE", "THEME"]
    assert "Diplomacy" in lines[0] and "Collaborations" in lines[0]
    rows = {line.split("  ")[0].strip(): line for line in lines[1:6]}
    assert "Healthcare Diplomacy" in rows
    diplomacy = rows["Healthcare Diplomacy"]
    assert diplomacy.split()[2] == "Diplomacy" and "*" in diplomacy and "diplomacy" in diplomacy


def test_themes_json_gives_the_same_data(seeds):
    result = run("themes", str(seeds), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_title = {a["title"]: a for a in data["articles"]}
    assert by_title["Healthcare Diplomacy"]["theme"] == "Diplomacy"
    assert by_title["Global Perspective: Recovery and Renewal in Asia"]["theme"] == "Asia recovery"
    assert by_title["Global Healthcare Collaborations"]["theme"] == "Collaborations"
    for a in data["articles"]:
        assert set(a["scores"]) == {"Diplomacy", "Asia recovery", "Collaborations"}
        assert a["words"] and a["override"] is False
        assert a["score"] == max(a["scores"].values())


def test_themes_shows_a_front_matter_override(write, tmp_path):
    write(
        "a.md", "---\ntitle: Budget talks\ntheme: Diplomacy\n---\n\nThe hospital opened a ward.\n"
    )
    result = run("themes", str(tmp_path / "a.md"), "--format", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)["articles"][0]
    assert (row["theme"], row["override"]) == ("Diplomacy", True)
    table = run("themes", str(tmp_path / "a.md"))
    assert "front matter theme" in table.output


def test_themes_uses_the_config_examples_and_other_name(write, tmp_path):
    write("ex/bread.txt", "Baking bread\n\nKnead the dough, let the yeast rise, bake the loaf.\n")
    write(
        "digest.toml",
        '[classify]\nother = "Misc"\n\n'
        '[[themes]]\nname = "Baking"\nexamples = ["ex/bread.txt"]\n\n'
        '[[themes]]\nname = "Chess"\nkeywords = ["chess", "gambit"]\n',
    )
    write("in/1.txt", "Sourdough at home\n\nThe dough rises overnight; bake the loaf hot.\n")
    write("in/2.txt", "Tax forms due\n\nThe revenue office reminded citizens of the deadline.\n")
    result = run(
        "themes", str(tmp_path / "in"), "-c", str(tmp_path / "digest.toml"), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    themes = {a["title"]: a["theme"] for a in json.loads(result.output)["articles"]}
    assert themes == {"Sourdough at home": "Baking", "Tax forms due": "Misc"}


def test_themes_with_a_missing_example_says_which(write, tmp_path):
    write("digest.toml", '[[themes]]\nname = "Baking"\nexamples = ["nope.txt"]\n')
    write("in/1.txt", "Sourdough\n\nThe dough rises overnight.\n")
    result = run("themes", str(tmp_path / "in"), "-c", str(tmp_path / "digest.toml"))
    assert result.exit_code == 1
    assert "nope.txt of theme 'Baking' does not exist" in result.output
    assert "hint:" in result.output


def test_themes_suggest_prints_toml_to_paste(write, tmp_path):
    import tomllib

    for i, body in enumerate(
        [
            "Knead the dough, let the yeast rise and bake the loaf in the oven.",
            "Bake the loaf when the dough has risen; yeast needs warm dough.",
            "The striker scored a goal and the referee ended the football match.",
            "The referee booked the striker before the football match ended goalless.",
        ]
    ):
        write(f"in/{i}.txt", f"Story {i}\n\n{body}\n")
    result = run("themes", str(tmp_path / "in"), "--suggest", "2")
    assert result.exit_code == 0, result.output
    themes = tomllib.loads(result.output)["themes"]
    assert len(themes) == 2
    members = sorted(sorted(t["examples"]) for t in themes)
    assert [[p[-5:] for p in m] for m in members] == [["0.txt", "1.txt"], ["2.txt", "3.txt"]]


def test_themes_suggest_more_than_articles_is_an_error(seeds):
    result = run("themes", str(seeds), "--suggest", "9")
    assert result.exit_code == 1
    assert "--suggest 9: there are 5 articles" in result.output


def test_send_needs_exactly_one_kind_of_recipient(tmp_path):
    none = run("send", str(tmp_path))
    both = run("send", str(tmp_path), "--to", "a@example.org", "--test", "b@example.org")
    for result in (none, both):
        assert result.exit_code == 2
        assert "give one of --to ADDR, --recipients FILE.csv or --test ADDR" in result.output


def test_send_help_names_the_password_variable():
    result = run("send", "--help")
    assert result.exit_code == 0
    assert "DIGEST_SMTP_PASSWORD" in result.output
    assert "--password" not in result.output


def test_month_flags(seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", str(seeds), "-o", "b", "--month", "2024-12")
    assert result.exit_code == 1
    assert "error: no articles for December 2024" in result.output
    assert "nothing written" in result.output
    assert not (tmp_path / "b").exists()
    result = run("build", str(seeds), "-o", "b", "--month", "2024-11")
    assert result.exit_code == 0, result.output
    assert "Built 1 article in 1 section" in result.output
    assert "000_6b7b2fddc07a1cb0.txt: undated" in result.output
    assert json.loads((tmp_path / "b" / "digest.json").read_text())["issue"] == 1


def test_bad_period_flags_are_usage_errors():
    result = run("build", "--month", "2024-13")
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    result = run("build", "--month", "2024-11", "--since", "2024-11-02")
    assert result.exit_code == 2 and "not both" in result.output
    result = run("build", "--since", "2024-11-30", "--until", "2024-11-01")
    assert result.exit_code == 2


def test_archive_flag_writes_the_archive(seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", str(seeds), "-o", "site", "--archive")
    assert result.exit_code == 0, result.output
    for name in ("index.html", "feed.xml", "archive.json", "2024-11/digest.html"):
        assert (tmp_path / "site" / name).is_file(), name
    assert "Issue 1 (2024-11); archived in site/2024-11/, index.html and feed.xml" in result.output
