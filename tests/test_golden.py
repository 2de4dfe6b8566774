"""The committed out/ is exactly what a fresh build of seeds/ gives.

Regenerate with `make golden` and review the diff.
"""

from __future__ import annotations

import shutil

from digest.config import load_config
from digest.pipeline import build


def test_fresh_build_of_seeds_matches_committed_out(root, monkeypatch, update_golden):
    monkeypatch.chdir(root)
    result = build(load_config(str(root / "digest.toml")), ["seeds"])
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
