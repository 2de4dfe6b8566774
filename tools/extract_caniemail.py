"""Regenerate ``digest/data/caniemail_support.json`` from a Can I email checkout.

    git clone https://github.com/hteumeuleu/caniemail
    python tools/extract_caniemail.py caniemail [--out digest/data/caniemail_support.json]

Each ``_features/*.md`` file (``_template.md`` aside) starts with YAML front
matter: ``title``, ``category``, ``last_test_date``, ``stats`` (client ->
platform -> version -> "y", "n", "a" or "u", perhaps followed by note
references such as ``#1``) and ``notes_by_num``. ``digest check`` needs only
the clients below, so the table keeps their stats and the notes those stats
refer to; features in which neither client is listed are left out.

The data is Can I email's, by Rémi Parmentier and contributors, under the MIT
licence (see ``digest/data/README.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

# client.platform as digest check names it -> how the table describes it
CLIENTS = {
    "gmail.desktop-webmail": "Gmail (desktop webmail)",
    "outlook.windows": "Outlook (Windows, Word engine)",
}
LEGEND = {
    "y": "supported",
    "n": "not supported",
    "a": "partial",
    "u": "unknown",
    "#N": "see the feature's notes[N]",
}
NOTE_REF = re.compile(r"#(\d+)")


def front_matter(text: str) -> dict[str, Any]:
    """The YAML between the first two ``---`` lines. Can I email indents its
    flow mappings with tabs, which YAML does not allow: they become spaces."""
    parts = text.split("---", 2)
    if len(parts) < 3:
        return {}
    data = yaml.safe_load(parts[1].replace("\t", "    "))
    return data if isinstance(data, dict) else {}


def feature(meta: dict[str, Any]) -> dict[str, Any] | None:
    """One feature's entry: its clients' stats and the notes they cite."""
    stats = meta.get("stats") or {}
    support: dict[str, dict[str, str]] = {}
    for key in CLIENTS:
        client, platform = key.split(".", 1)
        versions = (stats.get(client) or {}).get(platform)
        if versions:
            support[key] = {str(v): str(s).strip() for v, s in versions.items()}
    if not support:
        return None
    entry: dict[str, Any] = {
        "title": str(meta.get("title", "")),
        "category": str(meta.get("category", "")),
        "last_test_date": str(meta.get("last_test_date", "")),
        "support": support,
    }
    cited = {
        n for versions in support.values() for s in versions.values() for n in NOTE_REF.findall(s)
    }
    notes = {str(k): str(v) for k, v in (meta.get("notes_by_num") or {}).items() if str(k) in cited}
    if notes:
        entry["notes"] = dict(sorted(notes.items(), key=lambda kv: int(kv[0])))
    return entry


def table(checkout: Path) -> dict[str, Any]:
    features = {}
    for path in sorted((checkout / "_features").glob("*.md")):
        if path.name.startswith("_"):
            continue
        entry = feature(front_matter(path.read_text(encoding="utf-8")))
        if entry is not None:
            features[path.stem] = entry
    return {
        "source": source(checkout),
        "legend": LEGEND,
        "clients": CLIENTS,
        "features": features,
    }


def source(checkout: Path) -> dict[str, str]:
    def git(*args: str) -> str:
        run = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True)
        return run.stdout.strip() if run.returncode == 0 else ""

    return {
        "repo": "hteumeuleu/caniemail",
        "commit": git("rev-parse", "HEAD"),
        "commit_date": git("log", "-1", "--format=%cI"),
        "files": "_features/*.md (front matter: stats, notes_by_num)",
        "license": "MIT, (c) 2019 Remi Parmentier",
        "extracted_by": "tools/extract_caniemail.py",
        "extracted_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def dumps(data: dict[str, Any]) -> str:
    """One feature a line, as the vendored file is laid out (reviewable diffs)."""
    head = ",\n".join(
        f" {json.dumps(k)}: {json.dumps(data[k], ensure_ascii=False)}"
        for k in ("source", "legend", "clients")
    )
    rows = ",\n".join(
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in data["features"].items()
    )
    return "{\n" + head + ',\n "features": {\n' + rows + "\n }\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="a clone of hteumeuleu/caniemail")
    here = Path(__file__).resolve().parent.parent
    parser.add_argument(
        "--out", type=Path, default=here / "digest" / "data" / "caniemail_support.json"
    )
    args = parser.parse_args()
    if not (args.checkout / "_features").is_dir():
        sys.exit(f"error: {args.checkout}: no _features/ folder; clone hteumeuleu/caniemail first")
    data = table(args.checkout)
    args.out.write_text(dumps(data), encoding="utf-8")
    print(f"{len(data['features'])} features written to {args.out}")


if __name__ == "__main__":
    main()
