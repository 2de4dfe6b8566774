from __future__ import annotations

import pytest

from digest.errors import DigestError
from digest.load import load


def test_loads_text_markdown_and_html(tmp_path, write):
    write("a.txt", "Title A\n\nBody of a.")
    write(
        "b.md",
        "---\ntitle: Front Title\ndate: 2024-11-02\nurl: https://example.org/b\n"
        "author: Ann Lee\ntheme: Diplomacy\n---\n# Heading\n\nSome **bold** text\nwrapped here.\n",
    )
    write(
        "c.html",
        "<html><head><title>Page title</title></head><body><nav>Home | About</nav>"
        "<article><h1>Page title</h1><p>"
        + "This is the main article text of the page, long enough to be extracted. " * 8
        + "</p></article><footer>Copyright</footer></body></html>",
    )
    docs, warnings = load([str(tmp_path)])
    by_kind = {d.kind: d for d in docs}
    assert set(by_kind) == {"text", "markdown", "html"}
    md = by_kind["markdown"]
    assert md.get("title") == "Front Title"
    assert md.get("date") == "2024-11-02"
    assert md.get("theme") == "Diplomacy"
    assert "Some bold text wrapped here." in md.text  # syntax gone, paragraph joined
    assert "main article text" in by_kind["html"].text
    assert "Home | About" not in by_kind["html"].text
    assert warnings == ()


def test_unknown_suffix_is_skipped_with_a_warning(tmp_path, write):
    write("a.txt", "Title\n\nBody.")
    write("notes.docx", "whatever")
    docs, warnings = load([str(tmp_path)])
    assert len(docs) == 1
    assert len(warnings) == 1 and "notes.docx" in warnings[0] and "skipped" in warnings[0]


def test_non_utf8_is_decoded_with_a_warning(tmp_path, write):
    write("latin.txt", "Caf\xe9 au lait\n\nLe caf\xe9 est tr\xe8s bon \xe0 Paris.".encode("cp1252"))
    docs, warnings = load([str(tmp_path)])
    assert "Café" in docs[0].text
    assert "not UTF-8" in warnings[0] and "latin.txt" in warnings[0]


def test_missing_source_is_an_error():
    with pytest.raises(DigestError) as err:
        load(["/nonexistent/folder"])
    assert "no such file or folder" in err.value.message


def test_bad_file_is_skipped_others_load(tmp_path, write):
    write("good.txt", "Title\n\nA body sentence.")
    write("empty.txt", "   \n\n")
    write("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    write("bad.md", "---\ntitle: [unclosed\n---\nBody.")
    docs, warnings = load([str(tmp_path)])
    assert [d.source.rsplit("/", 1)[-1] for d in docs] == ["good.txt"]
    text = "\n".join(warnings)
    assert "empty.txt" in text and "bin.txt" in text and "bad.md" in text
    assert "invalid YAML" in text
