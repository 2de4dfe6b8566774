from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import DEFAULT_THEMES, Config, load_config
from digest.errors import DigestError


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None)
    assert cfg == Config()
    assert [t.name for t in cfg.themes] == ["Diplomacy", "Asia recovery", "Collaborations"]


def test_themes_only_config_is_valid_and_paths_are_relative_to_the_file(write, tmp_path):
    path = write(
        "conf/digest.toml",
        '[build]\nout = "built"\n\n[[themes]]\nname = "Cats"\nkeywords = ["cat"]\nexamples = ["ex/cat.txt"]\n',
    )
    cfg = load_config(str(path))
    assert [t.name for t in cfg.themes] == ["Cats"]
    assert cfg.themes[0].examples == (str(tmp_path / "conf" / "ex/cat.txt"),)
    assert cfg.build.out == str(tmp_path / "conf" / "built")
    assert cfg.summary.sentences == 3


def test_every_problem_is_reported_with_its_key(write):
    path = write(
        "bad.toml",
        '[summary]\nsentences = "three"\ncolour = 1\n\n[nope]\nx = 1\n\n[[themes]]\ndescription = "no name"\n',
    )
    with pytest.raises(DigestError) as err:
        load_config(str(path))
    msg = err.value.message
    assert "'summary.sentences' must be an integer" in msg
    assert "unknown key 'summary.colour'" in msg
    assert "unknown section or key 'nope'" in msg
    assert "theme #1 has no name" in msg
    assert str(path) in msg


def test_invalid_toml_names_the_line(write):
    path = write("broken.toml", '[newsletter]\nname = "x"\nintro = \n')
    with pytest.raises(DigestError) as err:
        load_config(str(path))
    assert "line 3" in err.value.message


def test_flags_override_file_and_none_is_ignored(write):
    path = write("d.toml", "[summary]\nsentences = 5\nsummarizer = 'lsa'\n")
    cfg = load_config(str(path)).with_overrides(
        {"summary.sentences": 2, "summary.summarizer": None}
    )
    assert (cfg.summary.sentences, cfg.summary.summarizer) == (2, "lsa")


def test_missing_config_file_is_an_error():
    with pytest.raises(DigestError) as err:
        load_config("/nope/digest.toml")
    assert "config file not found" in err.value.message


def test_shipped_config_matches_the_defaults(root: Path):
    assert load_config(str(root / "digest.toml")).themes == DEFAULT_THEMES


def test_web_and_archive_keys(write):
    path = write(
        "w.toml",
        "[build]\nfetch_full = true\ntimeout = 2\n\n[archive]\nenabled = true\n"
        'base_url = "https://example.org/digest/"\n',
    )
    cfg = load_config(str(path))
    assert (cfg.build.fetch_full, cfg.build.timeout) == (True, 2.0)
    assert (cfg.archive.enabled, cfg.archive.base_url) == (True, "https://example.org/digest/")
    bad = write("b.toml", '[build]\ntimeout = 0\n\n[archive]\nbase_url = "example.org"\n')
    with pytest.raises(DigestError) as err:
        load_config(str(bad))
    assert "'build.timeout' must be more than 0" in err.value.message
    assert "'archive.base_url' must start with https://" in err.value.message


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[summary]\nsentences = 0\n", "'summary.sentences' must be between 1 and 50, not 0"),
        ("[summary]\nmax_sentences = 0\n", "'summary.max_sentences' must be at least 1, not 0"),
        ("[classify]\nthreshold = 2\n", "'classify.threshold' must be between 0.0 and 1.0"),
        ('[newsletter]\naccent_color = "#12"\n', "'newsletter.accent_color' must be a colour"),
        (
            '[newsletter]\nlogo_url = "data:image/png;base64,xx"\n',
            "must be an http(s) or mailto URL",
        ),
        ('[newsletter]\narchive_url = "https://a.org/\\nx"\n', "must not contain spaces or line"),
        ('[smtp]\nsecurity = "tls"\n', "'smtp.security' must be starttls, ssl or none"),
        ("[smtp]\nport = 70000\n", "'smtp.port' must be between 0 and 65535"),
        ("[smtp]\ntimeout = 0\n", "'smtp.timeout' must be between 0.1 and 3600.0"),
    ],
)
def test_values_out_of_range_are_errors(write, toml, message):
    path = write("d.toml", toml)
    with pytest.raises(DigestError) as err:
        load_config(str(path))
    assert message in err.value.message


def test_merge_tags_are_allowed_as_links(write):
    path = write("d.toml", '[newsletter]\nunsubscribe_url = "*|UNSUB|*"\naccent_color = "teal"\n')
    assert load_config(str(path)).newsletter.unsubscribe_url == "*|UNSUB|*"


def test_smtp_section_types_and_ca_file_relative_to_the_file(write, tmp_path):
    path = write(
        "conf/digest.toml",
        '[smtp]\nhost = "mail.example.org"\nport = 2525\nca_file = "certs/ca.pem"\n'
        'rate = "10/s"\nbackoff = 0.5\n',
    )
    cfg = load_config(str(path))
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.rate) == ("mail.example.org", 2525, "10/s")
    assert cfg.smtp.ca_file == str(tmp_path / "conf" / "certs/ca.pem")
    assert cfg.smtp.backoff == 0.5 and cfg.smtp.security == "starttls"


def test_smtp_password_is_not_a_config_key(write):
    path = write("digest.toml", '[smtp]\npassword = "hunter2"\nport = "587"\n')
    with pytest.raises(DigestError) as err:
        load_config(str(path))
    assert "unknown key 'smtp.password'" in err.value.message
    assert "'smtp.port' must be an integer" in err.value.message
    assert "hunter2" not in str(err.value)
