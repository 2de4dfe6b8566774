"""Hostile and broken input, through the command line (#9).

Every case checks what a user sees: the exit code, the one-line message on
stderr (naming the file, what is wrong and what to try), and the state of
out/, which holds a previous complete digest before each build. Fixtures are
in tests/fixtures/hostile/; the big ones (50 MB, 5,000 files) are made in
tmp_path at test time.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from digest.cli import cli

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
ROOT = Path(__file__).resolve().parent.parent

# What out/ holds before each build: a previous digest and an archive folder
# that the build does not produce and must keep.
PREVIOUS = {
    "digest.html": b"<html>previous digest</html>",
    "digest.txt": b"previous digest\n",
    "digest.json": b'{"previous": true}\n',
    "digest.eml": b"Subject: previous\r\n\r\nprevious\r\n",
    "2024-10/digest.html": b"<html>October archive</html>",
}


# A complete config, so the only warnings are about the hostile input.
CONFIG = '[newsletter]\nunsubscribe_url = "https://example.org/unsubscribe"\n'


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working folder with articles/ and a previous digest in out/."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digest.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "articles").mkdir()
    shutil.copy(HOSTILE / "good.txt", tmp_path / "articles" / "good.txt")
    for name, data in PREVIOUS.items():
        path = tmp_path / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return tmp_path


def add(project: Path, *names: str) -> None:
    for name in names:
        shutil.copy(HOSTILE / name, project / "articles" / name)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def built(project: Path) -> dict:
    """out/ holds a new complete digest, the archive is kept, nothing is left over."""
    out = project / "out"
    files = snapshot(out)
    assert {"digest.html", "digest.txt", "digest.json", "digest.eml"} <= set(files)
    assert files["digest.html"] != PREVIOUS["digest.html"]
    assert files["2024-10/digest.html"] == PREVIOUS["2024-10/digest.html"]
    assert not [p for p in project.iterdir() if p.name.startswith(".digest-")]
    return json.loads(files["digest.json"])


def unchanged(project: Path) -> None:
    """out/ still holds exactly the previous digest; no temporary folder is left."""
    assert snapshot(project / "out") == PREVIOUS
    assert not [p for p in project.iterdir() if p.name.startswith(".digest-")]


def items(data: dict) -> dict[str, dict]:
    return {Path(i["source"]).name: i for s in data["sections"] for i in s["items"]}


def stderr_lines(result: Result) -> list[str]:
    """The lines on stderr, without the notes about undated articles (#7):
    most fixtures have no date, and that is not what they test."""
    return [
        line
        for line in result.stderr.strip().splitlines()
        if not (
            line.startswith(("warning: ", "error: "))
            and (": undated (no date in" in line or "articles are undated (" in line)
        )
    ]


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- Files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.txt", "articles/empty.txt: empty article; skipped (add text or remove the file)"),
        (
            "whitespace.txt",
            "articles/whitespace.txt: empty article; skipped (add text or remove the file)",
        ),
        (
            "image.png.txt",
            "articles/image.png.txt: a PNG image, not text; skipped (remove it from the sources)",
        ),
        ("nul.txt", "articles/nul.txt: binary file, not text; skipped"),
        ("report.pdf.txt", "articles/report.pdf.txt: a PDF document, not text; skipped"),
    ],
)
def test_a_bad_file_is_skipped_with_one_warning_and_the_rest_builds(project, name, message):
    add(project, name)
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    warnings = [line for line in stderr_lines(result) if line.startswith("warning:")]
    assert len(warnings) == 1 and message in warnings[0]
    assert list(items(built(project))) == ["good.txt"]
    no_traceback(result)


@pytest.mark.parametrize("name", ["empty.txt", "image.png.txt", "nul.txt"])
def test_strict_turns_the_warning_into_an_error_and_keeps_out(project, name):
    add(project, name)
    result = run("build", "articles", "--strict")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert any(line.startswith(f"error: articles/{name}:") for line in lines)
    assert "error: 1 warning with --strict; nothing was written" in lines
    assert lines[-1] == "hint: fix the inputs above or drop --strict"
    unchanged(project)
    no_traceback(result)


@pytest.mark.parametrize(
    ("name", "warning", "expected"),
    [
        ("utf16.txt", "read as UTF-16 (byte order mark found)", "The clinic in Zürich opened"),
        ("latin1.txt", "not UTF-8; read as cp1252", "served crème brûlée to the nurses"),
        ("cp1252.txt", "not UTF-8; read as cp1252", "The editor’s note — written in Word"),
    ],
)
def test_other_encodings_are_decoded_with_a_warning(project, name, warning, expected):
    add(project, name)
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert f"warning: articles/{name}: {warning}" in result.stderr
    summary = " ".join(items(built(project))[name]["summary"])
    assert expected in summary


def test_mixed_line_endings_make_three_paragraphs(project):
    add(project, "mixed-endings.txt")
    result = run("build", "articles")
    assert result.exit_code == 0 and stderr_lines(result) == []
    item = items(built(project))["mixed-endings.txt"]
    assert item["title"] == "Mixed Line Endings Here"
    assert item["summary"] == [
        "The first paragraph ends with a Windows line end.",
        "The second paragraph uses a Unix line end.",
        "The third one uses an old Mac line end.",
    ]


def test_a_50_mb_file_is_truncated_with_a_warning(project):
    line = "The council met again on day %d and discussed the hospital budget at length.\n"
    with (project / "articles" / "huge.txt").open("w") as fh:
        fh.write("A Very Long Report\n\n")
        i = 0
        while fh.tell() < 50_000_000:
            fh.write(line % i)
            i += 1
    started = time.monotonic()
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    assert (
        "warning: articles/huge.txt: larger than 2000000 bytes; only the first 2000000 are used "
        "(raise build.max_article_bytes to read more)"
    ) in result.stderr
    assert set(items(built(project))) == {"good.txt", "huge.txt"}


def test_an_unreadable_file_is_skipped_with_a_warning(project):
    # Tests may run as root, for whom chmod 000 changes nothing; reading
    # /proc/self/mem at offset 0 fails for every user (EIO).
    if not Path("/proc/self/mem").exists():
        pytest.skip("needs Linux /proc")
    (project / "articles" / "locked.txt").symlink_to("/proc/self/mem")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert "warning: articles/locked.txt: cannot read: Input/output error; skipped" in (
        result.stderr
    )
    assert list(items(built(project))) == ["good.txt"]


def test_a_broken_symlink_in_a_folder_is_a_warning(project):
    (project / "articles" / "gone.txt").symlink_to(project / "nowhere.txt")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert "warning: articles/gone.txt: broken symbolic link; skipped" in result.stderr
    assert list(items(built(project))) == ["good.txt"]


def test_a_broken_symlink_named_on_the_command_line_is_an_error(project):
    (project / "gone.txt").symlink_to(project / "nowhere.txt")
    result = run("build", "gone.txt")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "error: gone.txt: broken symbolic link",
        "hint: point it at an existing file",
    ]
    unchanged(project)


def test_a_folder_with_no_articles(project):
    (project / "nothing").mkdir()
    (project / "nothing" / "notes.docx").write_bytes(b"PK\x03\x04")
    result = run("build", "nothing")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert lines[0].startswith("error: nothing/notes.docx: skipped, not an article format")
    assert "error: nothing: no articles found" in lines
    assert lines[-1] == "hint: add .txt, .md or .html files (see README.md, 'Inputs')"
    unchanged(project)


def test_5000_small_files(project):
    folder = project / "many"
    folder.mkdir()
    topics = ["hospital", "clinic", "vaccine", "nurse", "budget"]
    for i in range(5000):
        t = topics[i % 5]
        (folder / f"a{i:04d}.txt").write_text(
            f"Story {i} about the {t}\n\nThe {t} report number {i} was published today. "
            f"It describes {i % 97} new cases in the region.\n",
            encoding="utf-8",
        )
    result = run("build", "many")
    assert result.exit_code == 0, result.output
    # the only warning: the email is fitted under Gmail's clipping size
    assert stderr_lines(result) == [
        line for line in stderr_lines(result) if line.startswith("warning: digest.html would be")
    ]
    assert len(items(built(project))) == 5000


# --- Text --------------------------------------------------------------------


def test_odd_texts_build(project):
    add(project, "one-sentence.txt", "no-punctuation.txt", "title-only.txt", "emoji.txt")
    para = " ".join(f"Sentence {i} of a paragraph that never ends." for i in range(2500))
    (project / "articles" / "long-paragraph.txt").write_text(f"One Long Paragraph\n\n{para}\n")
    assert len(para.split()) == 20_000
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == []
    got = items(built(project))
    assert got["one-sentence.txt"]["summary"] == [
        "Only one sentence is in this article about the clinic."
    ]
    assert got["no-punctuation.txt"]["summary"][0].startswith("no punctuation here at all")
    assert got["title-only.txt"]["title"] == "A Headline And Nothing Else"
    assert got["title-only.txt"]["summary"] == ["A Headline And Nothing Else"]
    assert len(got["long-paragraph.txt"]["summary"]) == 3
    assert all(s in para for s in got["long-paragraph.txt"]["summary"])
    emoji = got["emoji.txt"]
    joined = emoji["title"] + " ".join(emoji["summary"])
    for kept in ("🏥", "👨\u200d👩\u200d👧", "Zoe\u0308", "cafe\u0301", "Zero\u200bwidth"):
        assert kept in joined
    html = (project / "out" / "digest.html").read_text(encoding="utf-8")
    assert "👨\u200d👩\u200d👧" in html and "Zoe\u0308" in html


def test_languages_get_their_own_rules_and_lang(project):
    add(project, "fr.md", "de.md", "zh.txt", "ar.txt")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == []
    got = items(built(project))
    assert {n: got[n]["language"] for n in ("fr.md", "de.md", "zh.txt", "ar.txt")} == {
        "fr.md": "fr",
        "de.md": "de",
        "zh.txt": "zh",
        "ar.txt": "ar",
    }
    for name in ("fr.md", "de.md", "zh.txt", "ar.txt"):
        text = (HOSTILE / name).read_text(encoding="utf-8")
        assert len(got[name]["summary"]) == 3
        assert all(s in text for s in got[name]["summary"])
    assert got["zh.txt"]["title"] == "医院开设新病房"
    assert got["zh.txt"]["summary"][0] == "市医院星期一为生病的儿童开设了一个新病房。"
    html = (project / "out" / "digest.html").read_text(encoding="utf-8")
    assert '<h3 lang="fr" dir="ltr"' in html and '<p lang="de" dir="ltr"' in html
    assert '<h3 lang="zh" dir="ltr"' in html
    # right to left where it matters: the Arabic article, not its neighbours
    assert '<h3 lang="ar" dir="rtl"' in html and '<p lang="ar" dir="rtl"' in html
    assert '<html lang="en" dir="ltr"' in html


def test_a_language_without_rules_is_kept_whole_with_a_warning(project):
    add(project, "fi.md")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == [
        "warning: articles/fi.md: no summarization rules for language 'fi'; the article is "
        "kept whole (set 'language:' in its front matter if this is wrong)"
    ]
    item = items(built(project))["fi.md"]
    assert item["language"] == "fi" and len(item["summary"]) == 4


def test_right_to_left_digest(project):
    (project / "articles" / "good.txt").unlink()
    add(project, "ar.txt")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    built(project)
    html = (project / "out" / "digest.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl"' in html


def test_the_same_article_twice_is_kept_once(project):
    shutil.copy(HOSTILE / "good.txt", project / "articles" / "copy.txt")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == [
        "warning: articles/good.txt: same article as articles/copy.txt; skipped"
    ]
    assert list(items(built(project))) == ["copy.txt"]


# --- Markup and injection ----------------------------------------------------


class Tags(HTMLParser):
    """The element and attribute names of a document, and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            self.attrs.add(name)
            if name in ("href", "src", "action", "background"):
                self.links.append(value or "")


def tags_of(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def test_markup_jinja_and_mjml_in_text_stay_text(project):
    (project / "articles" / "good.txt").unlink()
    shutil.copy(HOSTILE / "good.txt", project / "articles" / "good.md")
    result = run("build", "articles", "-o", "benign")
    assert result.exit_code == 0
    benign = tags_of((project / "benign" / "digest.html").read_text(encoding="utf-8"))
    add(project, "injection.md")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    lines = stderr_lines(result)
    assert lines[0] == (
        "warning: articles/injection.md: url 'javascript:alert(document.cookie)' dropped: "
        "only http(s) and mailto links are kept"
    )
    # digest check (#4) flags the article's literal tags in digest.txt: they are text there
    assert all(line.startswith("warning: text-markup: digest.txt contains") for line in lines[1:])
    item = items(built(project))["injection.md"]
    html = (project / "out" / "digest.html").read_text(encoding="utf-8")
    text = (project / "out" / "digest.txt").read_text(encoding="utf-8")
    got = tags_of(html)
    assert got.tags == benign.tags and got.attrs == benign.attrs
    assert not any(link.lower().startswith(("javascript:", "data:")) for link in got.links)
    assert "<script>" not in html and "root:" not in html and "49" not in text
    assert item["url"] is None
    assert "{{ config }}" in item["title"] and "</mj-text>" in item["title"]
    source = (HOSTILE / "injection.md").read_text(encoding="utf-8").split("---\n")[2].strip()
    assert " ".join(item["summary"]) == source  # three sentences: all kept, verbatim
    assert "{{ 7*7 }} and {% include &#39;/etc/passwd&#39; %}" in html
    assert "{{ 7*7 }} and {% include '/etc/passwd' %}" in text
    assert "&lt;/mj-text&gt;&lt;mj-raw&gt;" in html


def test_script_and_data_links_in_a_feed_are_dropped(project):
    add(project, "evil.rss")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == [
        "warning: articles/evil.rss#1: url 'javascript:alert(document.domain)' dropped: "
        "only http(s) and mailto links are kept",
        "warning: articles/evil.rss#2: url 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2Nya"
        "XB0Pg==' dropped: only http(s) and mailto links are kept",
    ]
    got = items(built(project))
    assert got["evil.rss#1"]["url"] is None and got["evil.rss#2"]["url"] is None
    assert got["evil.rss#3"]["title"] == "Header Bcc: victim@example.com"
    html = (project / "out" / "digest.html").read_text(encoding="utf-8")
    tags = tags_of(html)
    assert "script" not in tags.tags
    assert all(link.startswith("https://") for link in tags.links), tags.links
    assert "{{ 7*7 }} {% include &#39;/etc/passwd&#39; %}" in html


def test_data_url_in_front_matter_is_dropped(project):
    add(project, "data-url.md")
    result = run("build", "articles")
    assert result.exit_code == 0
    assert "warning: articles/data-url.md: url 'data:text/html;base64," in result.stderr
    assert "only http(s) and mailto links are kept" in result.stderr
    assert items(built(project))["data-url.md"]["url"] is None
    assert "data:text" not in (project / "out" / "digest.html").read_text(encoding="utf-8")


def test_crlf_in_a_title_cannot_add_mail_headers(project, monkeypatch):
    add(project, "crlf-title.md")
    (project / "digest.toml").write_text(
        CONFIG + 'name = "News\\r\\nBcc: victim@example.com"\n', encoding="utf-8"
    )
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    item = items(built(project))["crlf-title.md"]
    assert item["title"] == "Hospital news Bcc: victim@example.com X-Injected: yes"
    import email
    from email import policy

    raw = (project / "out" / "digest.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert "\n" not in msg["Subject"] and msg["Subject"].startswith("News Bcc:")
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.startswith((b"Bcc:", b"X-Injected:")) for line in headers.splitlines())


def test_a_2000_character_title_is_shortened(project):
    add(project, "long-title.md")
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    title = items(built(project))["long-title.md"]["title"]
    assert len(title) <= 200 and title.endswith("Extraordinarily…")
    text = (project / "out" / "digest.txt").read_text(encoding="utf-8")
    assert all(len(line) <= 78 for line in text.splitlines())


def test_a_2000_character_newsletter_name_gives_a_short_subject(project):
    (project / "digest.toml").write_text(
        CONFIG + f'name = "{" ".join(["Newsletter"] * 180)}"\n', encoding="utf-8"
    )
    result = run("build", "articles")
    assert result.exit_code == 0, result.output
    built(project)
    import email
    from email import policy

    raw = (project / "out" / "digest.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert 50 < len(msg["Subject"]) <= 200 and msg["Subject"].endswith("…")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


# --- Front matter ------------------------------------------------------------


def test_invalid_yaml_names_the_line(project):
    add(project, "bad-yaml.md")
    result = run("build", "articles")
    assert result.exit_code == 0
    assert stderr_lines(result) == [
        "warning: articles/bad-yaml.md: line 4 invalid YAML front matter (expected ',' or "
        "']', but got ':'); skipped "
        "(check the quoting and indentation between the --- lines)"
    ]
    assert list(items(built(project))) == ["good.txt"]


def test_a_date_that_is_not_a_date_is_a_warning_and_undated(project):
    add(project, "bad-date.md")
    result = run("build", "articles")
    assert result.exit_code == 0
    assert stderr_lines(result) == [
        "warning: articles/bad-date.md: date 'yesterday' is not a date; the article is "
        "treated as undated (write it as YYYY-MM-DD)"
    ]
    assert items(built(project))["bad-date.md"]["date"] is None


def test_unknown_front_matter_keys_are_named(project):
    add(project, "unknown-key.md")
    result = run("build", "articles")
    assert result.exit_code == 0
    known = "(known keys: title, date, url, author, theme, language, source)"
    assert stderr_lines(result) == [
        f"warning: articles/unknown-key.md: unknown front matter key 'tags' ignored {known}",
        f"warning: articles/unknown-key.md: unknown front matter key 'authr' ignored {known}",
    ]
    assert items(built(project))["unknown-key.md"]["author"] is None


def test_front_matter_of_the_wrong_type(project):
    (project / "articles" / "typed.md").write_text(
        "---\ntitle: [a, list]\nlanguage: French\n---\nThe body of the article is here.\n",
        encoding="utf-8",
    )
    result = run("build", "articles")
    assert result.exit_code == 0
    assert stderr_lines(result) == [
        "warning: articles/typed.md: front matter 'title' must be a single value, not a list; "
        "ignored",
        "warning: articles/typed.md: language 'French' is not a language code like 'en' or "
        "'fr'; detected from the text instead",
    ]
    assert items(built(project))["typed.md"]["language"] == "en"


def test_strict_fails_on_front_matter_warnings(project):
    add(project, "bad-date.md", "unknown-key.md")
    result = run("build", "articles", "--strict")
    assert result.exit_code == 1
    every = result.stderr.strip().splitlines()  # both are undated, too
    problems = [line for line in every if line.startswith("error: articles/")]
    assert len(problems) == 5 and len(stderr_lines(result)) == 5
    assert "error: 5 warnings with --strict; nothing was written" in every
    unchanged(project)


# --- Config ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[newsletter]\nname = "x"\nintro = \n',
            "error: digest.toml: invalid TOML: Invalid value (at line 3, column 9)",
        ),
        (
            "[summary]\nsentense = 2\n",
            "error: digest.toml: unknown key 'summary.sentense' (known keys: summarizer, "
            "sentences, max_sentences)",
        ),
        (
            '[summary]\nsentences = "three"\n',
            "error: digest.toml: 'summary.sentences' must be an integer, not str",
        ),
        ("[summary]\nsentences = 0\n", "error: digest.toml: 'summary.sentences' must be between"),
        (
            '[[themes]]\ndescription = "no name"\n',
            'error: digest.toml: theme #1 has no name (add name = "...")',
        ),
        (
            '[newsletter]\naccent_color = "red; } body { background: url(x)"\n',
            "error: digest.toml: 'newsletter.accent_color' must be a colour like \"#0b5cab\"",
        ),
        (
            '[newsletter]\nunsubscribe_url = "javascript:alert(1)"\n',
            "error: digest.toml: 'newsletter.unsubscribe_url' must be an http(s) or mailto URL",
        ),
        (
            "[build]\nmax_article_bytes = -1\n",
            "error: digest.toml: 'build.max_article_bytes' must be at least 1, not -1",
        ),
    ],
)
def test_config_problems(project, toml, message):
    (project / "digest.toml").write_text(toml, encoding="utf-8")
    result = run("build", "articles")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert lines[0].startswith(message), lines
    assert lines[1].startswith("hint: ")
    unchanged(project)
    no_traceback(result)


def test_a_missing_templates_folder(project):
    result = run("build", "articles", "--templates", "nope")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "error: nope: templates folder not found",
        "hint: fix templates.dir / --templates, or leave it empty for the built-in templates",
    ]
    unchanged(project)


def test_a_template_with_an_undefined_variable(project):
    (project / "tpl").mkdir()
    (project / "tpl" / "digest.txt.j2").write_text(
        "{{ newsletter.name }}\n\n{{ digest.subtitle }}\n", encoding="utf-8"
    )
    result = run("build", "articles", "--templates", "tpl")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert lines[0].startswith("error: ") and "digest.txt.j2:3:" in lines[0]
    assert "'subtitle'" in lines[0]
    assert lines[1].startswith("hint: use only the variables documented")
    unchanged(project)


def test_a_build_that_fails_late_still_shows_the_warnings_before_it(project):
    """A skipped file is still news when the build then fails (here on a
    template): the warning comes first, then the error, and out/ is kept."""
    add(project, "nul.txt")
    (project / "tpl").mkdir()
    (project / "tpl" / "digest.txt.j2").write_text("{{ digest.subtitle }}\n", encoding="utf-8")
    result = run("build", "articles", "--templates", "tpl")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert lines[0].startswith("warning: articles/nul.txt: binary file, not text; skipped")
    assert lines[1].startswith("error: ") and "'subtitle'" in lines[1]
    assert lines[2].startswith("hint: ")
    unchanged(project)
    no_traceback(result)


# --- CLI and disk ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--no-such-flag"], "No such option '--no-such-flag'"),
        (["build", "--sentences", "0"], "Invalid value for '--sentences'"),
        (["build", "--sentences", "many"], "Invalid value for '--sentences'"),
        (["nope"], "No such command 'nope'"),
    ],
)
def test_bad_usage_exits_2(project, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    unchanged(project)


def test_output_path_that_is_a_file(project):
    (project / "afile").write_text("not a folder")
    result = run("build", "articles", "-o", "afile")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "error: afile: output path is a file, not a folder",
        "hint: pass a folder with -o/--out, or move the file away",
    ]
    assert (project / "afile").read_text() == "not a folder"
    unchanged(project)


@pytest.mark.parametrize("out", [".", "..", "articles/.."])
def test_the_current_folder_cannot_be_the_output(project, out):
    result = run("build", "articles", "-o", out)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"error: {out}: the output folder is replaced as a whole, so it cannot be the "
        "current folder or one above it",
        "hint: write into a folder of its own, e.g. -o out",
    ]
    unchanged(project)
    assert (project / "articles" / "good.txt").is_file()


def test_output_folder_inside_a_file(project):
    (project / "afile").write_text("x")
    result = run("build", "articles", "-o", "afile/out")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "error: afile/out: afile is a file, not a folder",
        "hint: choose another output folder with -o/--out",
    ]
    unchanged(project)


def test_unwritable_output_folder(project):
    # chmod does not stop root, but no one may create files in /sys.
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux /sys")
    result = run("build", "articles", "-o", "/sys/digest-out")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert lines[0] in {
        f"error: /sys/digest-out: cannot create the output folder: {reason}"
        for reason in ("Operation not permitted", "Read-only file system", "Permission denied")
    }
    assert lines[1] == "hint: choose a writable folder with -o/--out"
    assert not Path("/sys/digest-out").exists()
    unchanged(project)


@pytest.mark.parametrize(
    ("flags", "full_at"),
    [([], 1), ([], 3), (["--archive"], 3), (["--archive"], 9)],
    ids=["first-file", "third-file", "archive-issue", "archive-index"],
)
def test_disk_full_keeps_the_previous_digest(project, monkeypatch, flags, full_at):
    real_write = os.write
    calls = {"n": 0}

    def write(fd, data):
        calls["n"] += 1
        if calls["n"] == full_at:  # the disk fills up partway through the new files
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    result = run("build", "articles", *flags)
    monkeypatch.setattr(os, "write", real_write)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "error: out: cannot write the digest: No space left on device; "
        "the previous digest was kept",
        "hint: free some disk space and build again",
    ]
    unchanged(project)


def test_an_archive_build_is_one_replacement(project, monkeypatch):
    result = run("build", "articles", "--archive")
    assert result.exit_code == 0, result.output
    first = snapshot(project / "out")
    assert {"2024-11/digest.html", "index.html", "feed.xml", "archive.json"} <= set(first)
    assert first["2024-10/digest.html"] == PREVIOUS["2024-10/digest.html"]
    swaps = []
    import digest.deliver

    real_swap = digest.deliver._swap
    monkeypatch.setattr(digest.deliver, "_swap", lambda a, b: swaps.append(b) or real_swap(a, b))
    add(project, "fr.md")
    result = run("build", "articles", "--archive")
    assert result.exit_code == 0, result.output
    assert len(swaps) == 1  # the digest, the issue folder and the index change together


def test_interrupted_while_writing_keeps_the_previous_digest(project, monkeypatch):
    real_replace = os.write
    calls = {"n": 0}

    def write(fd, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_replace(fd, data)

    monkeypatch.setattr(os, "write", write)
    result = run("build", "articles")
    monkeypatch.undo()
    assert result.exit_code == 130
    assert stderr_lines(result) == ["error: interrupted; out/ was left as it was"]
    unchanged(project)


def test_interrupted_build_in_a_real_process(project):
    folder = project / "many"
    folder.mkdir()
    for i in range(10_000):  # about a minute of work on two cores
        (folder / f"a{i:05d}.txt").write_text(
            f"Story {i}\n\n" + " ".join(f"Sentence {j} of story {i} is here." for j in range(40)),
            encoding="utf-8",
        )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "digest", "build", "many"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, like a job in a terminal
    )
    try:
        time.sleep(2.5)  # in the middle of the build
        assert proc.poll() is None, "the build finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the build and its worker processes
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert err.decode().strip().splitlines() == ["error: interrupted; out/ was left as it was"]
    unchanged(project)


def test_debug_shows_a_traceback_for_hostile_input(project):
    result = run("--debug", "build", "articles", "-o", "articles/good.txt")
    assert result.exit_code == 1
    assert "output path is a file" in str(result.exception)


# --- Property: arbitrary Unicode as title and body ------------------------------

from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from digest.clean import strip_controls  # noqa: E402
from digest.config import Config, NewsletterConfig  # noqa: E402
from digest.errors import DigestError  # noqa: E402
from digest.pipeline import build  # noqa: E402

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
PROPERTY_CONFIG = Config(
    newsletter=NewsletterConfig(unsubscribe_url="https://example.org/unsubscribe")
)
# Every code point but surrogates (not text in UTF-8): control characters,
# format characters, private use, unassigned, RTL, combining marks, emoji.
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=600)
# Text that reads like prose sometimes, so summaries are not always trivial.
PROSE = st.lists(
    st.one_of(
        ANY_TEXT,
        st.sampled_from(
            [
                "The hospital opened a new wing on Monday.",
                "Doctors said it will treat two thousand patients a year.",
                "<script>alert(1)</script> {{ 7*7 }} {% include '/etc/passwd' %} </mj-text>",
                'javascript:alert(1) <a href="javascript:x">x</a> \r\nBcc: x@example.org',
                "مرحبا بكم في المستشفى الجديد.",
                "医院今天开设了新的病房。",
            ]
        ),
    ),
    max_size=6,
).map(" ".join)


def yaml_string(text: str) -> str:
    """Any text as a YAML double-quoted scalar (every character escaped)."""
    return '"' + "".join(f"\\U{ord(c):08x}" for c in text) + '"'


class Structure(HTMLParser):
    """Tag and attribute names, links, and whether every element is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.links: list[str] = []
        self.stack: list[str] = []
        self.balanced = True

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)
        self.links.extend(v or "" for n, v in attrs if n in ("href", "src"))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False


def structure(html: str) -> Structure:
    parser = Structure()
    parser.feed(html)
    parser.close()
    assert parser.balanced and not parser.stack, "the HTML does not parse into a tree"
    return parser


def build_one(folder: Path, name: str, data: bytes):
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / name).write_bytes(data)
    return build(PROPERTY_CONFIG, [str(folder)])


@pytest.fixture(scope="module")
def benign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benign")
    result = build_one(
        folder,
        "a.md",
        b'---\ntitle: "A plain title"\n---\nA plain sentence is here. Another plain one follows.\n',
    )
    return structure(result.rendered.get("digest.html").decode("utf-8"))


def flat(text: str) -> str:
    return " ".join(strip_controls(text).split())


def check_build(result, benign: Structure, article_text: str) -> None:
    html = result.rendered.get("digest.html").decode("utf-8")
    got = structure(html)
    assert got.tags <= benign.tags, got.tags - benign.tags
    assert got.attrs <= benign.attrs, got.attrs - benign.attrs
    assert all(link.startswith("https://") for link in got.links), got.links
    whole = flat(article_text)
    for item in result.digest.articles:
        for sentence in item.summary:
            assert flat(sentence) in whole, sentence
    json.loads(result.rendered.get("digest.json"))
    import email
    from email import policy

    msg = email.message_from_bytes(result.rendered.get("digest.eml"), policy=policy.default)
    assert "\n" not in msg["Subject"] and msg["Bcc"] is None


PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(title=ANY_TEXT, body=PROSE)
def test_any_title_and_body_in_front_matter(tmp_path, benign, title, body):
    data = f"---\ntitle: {yaml_string(title)}\n---\n{body}\n".encode()
    try:
        result = build_one(tmp_path / "md", "a.md", data)
    except DigestError as exc:  # the expected refusals: nothing left, or binary
        assert "no articles found" in exc.message
        event("refused: no article")
        return
    event("built")
    from digest.load import load

    docs, _ = load([str(tmp_path / "md")])
    check_build(result, benign, docs[0].text + "\n" + title)


@PROPERTY_SETTINGS
@given(title=ANY_TEXT, body=PROSE)
def test_any_text_file(tmp_path, benign, title, body):
    raw = f"{title}\n\n{body}\n"
    try:
        result = build_one(tmp_path / "txt", "a.txt", raw.encode("utf-8"))
    except DigestError as exc:
        assert "no articles found" in exc.message
        event("refused: no article")
        return
    event("built")
    check_build(result, benign, raw.replace("\r\n", "\n").replace("\r", "\n"))


@PROPERTY_SETTINGS
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        ANY_TEXT.map(lambda t: t.encode("utf-8")),
        ANY_TEXT.map(lambda t: t.encode("utf-16")),
        st.builds(
            lambda head, body: head + body,
            st.sampled_from(
                [b"---\n", b"<?xml version='1.0'?><rss><channel><item>", b"<html><body><p>"]
            ),
            st.binary(max_size=2000),
        ),
    ),
    suffix=st.sampled_from([".txt", ".md", ".html", ".xml", ".rss", ""]),
)
def test_any_bytes_load_or_are_refused_with_a_warning(tmp_path, data, suffix):
    from digest.clean import clean
    from digest.load import load

    folder = tmp_path / "bytes"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / f"a{suffix}").write_bytes(data)
    docs, warnings = load([str(folder)])
    assert docs or warnings  # never silently nothing
    for doc in docs:
        article = clean(doc)
        assert all("\x00" not in p for p in article.paragraphs)


def test_front_matter_may_list_several_authors(project):
    # static site generators write several authors as a list; a list of
    # mappings is still refused with a warning
    (project / "articles" / "two.md").write_text(
        '---\ntitle: Clinic opens\nauthor: ["Ana Lima", "Wei Chen"]\n---\n'
        "The new clinic opened on Tuesday. Doctors from both countries work there.\n",
        encoding="utf-8",
    )
    (project / "articles" / "nested.md").write_text(
        "---\ntitle: Ward reopens\nauthor: [{name: Ana}]\n---\n"
        "The ward reopened on Monday after the works. Patients return this week.\n",
        encoding="utf-8",
    )
    result = run("build", "articles")
    assert result.exit_code == 0
    assert stderr_lines(result) == [
        "warning: articles/nested.md: front matter 'author' must be a single value, not a list; "
        "ignored",
    ]
    found = items(built(project))
    assert found["two.md"]["author"] == "Ana Lima, Wei Chen"
    assert found["nested.md"]["author"] is None
