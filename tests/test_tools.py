"""The scripts under tools/ that regenerate the vendored data in digest/data."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from digest.check import check_html, load_caniemail

# Can I email's front matter as its files write it: flow mappings indented
# with tabs (which YAML does not allow), trailing commas, note references
FEATURE = """---
title: "position"
category: css
last_test_date: "2024-02-28"
stats: {
\tgmail: {
\t\tdesktop-webmail: {
\t\t\t"2019-02": "y",
\t\t\t"2024-02": "n #2",
\t\t},
\t\tios: {
\t\t\t"2024-02": "a #1"
\t\t}
\t},
\toutlook: {
\t\twindows: {
\t\t\t"2016": "n",
\t\t\t"2019": "n"
\t\t}
\t}
}
notes_by_num: {
    "1": "A note only the iOS app cites.",
    "2": "Dropped since 2024.",
}
---
Body text the table does not keep.
"""


def _tool(root):
    spec = importlib.util.spec_from_file_location(
        "extract_caniemail", root / "tools" / "extract_caniemail.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_caniemail_extractor_keeps_the_checked_clients_and_their_notes(root, tmp_path, monkeypatch):
    features = tmp_path / "caniemail" / "_features"
    features.mkdir(parents=True)
    (features / "css-position.md").write_text(FEATURE, encoding="utf-8")
    (features / "css-other.md").write_text(  # no checked client: left out
        '---\ntitle: "x"\nstats: {\n\tyahoo: {\n\t\tios: {\n\t\t\t"1": "y"\n\t\t}\n\t}\n}\n---\n'
    )
    (features / "_template.md").write_text('---\ntitle: "template"\n---\n')
    out = tmp_path / "table.json"
    run = subprocess.run(
        [
            sys.executable,
            str(root / "tools" / "extract_caniemail.py"),
            str(tmp_path / "caniemail"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    table = json.loads(out.read_text(encoding="utf-8"))
    assert list(table["features"]) == ["css-position"]
    assert table["features"]["css-position"] == {
        "title": "position",
        "category": "css",
        "last_test_date": "2024-02-28",
        "support": {
            "gmail.desktop-webmail": {"2019-02": "y", "2024-02": "n #2"},
            "outlook.windows": {"2016": "n", "2019": "n"},
        },
        "notes": {"2": "Dropped since 2024."},
    }
    assert set(table["clients"]) == {"gmail.desktop-webmail", "outlook.windows"}
    assert table["source"]["extracted_by"] == "tools/extract_caniemail.py"
    # digest check reads the regenerated table as it reads the vendored one
    assert load_caniemail(str(out)) == table
    html = '<html><body><div style="position:absolute">x</div></body></html>'
    monkeypatch.setenv("DIGEST_CANIEMAIL", str(out))
    found = [f for f in check_html(html) if f.rule == "client-support"]
    assert found and "Gmail (desktop webmail) and Outlook" in found[0].detail


def test_caniemail_extractor_refuses_a_folder_that_is_no_checkout(root, tmp_path):
    run = subprocess.run(
        [sys.executable, str(root / "tools" / "extract_caniemail.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "no _features/" in run.stderr and "Traceback" not in run.stderr


def test_the_vendored_table_has_the_layout_the_extractor_writes(root):
    tool = _tool(root)
    path = root / "digest" / "data" / "caniemail_support.json"
    vendored = path.read_text(encoding="utf-8")
    data = json.loads(vendored)
    assert tool.dumps(data) == vendored  # regenerating shows only real changes in a diff
    assert data["clients"] == tool.CLIENTS and data["legend"] == tool.LEGEND
