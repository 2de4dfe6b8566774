"""Every config key and every command is documented in README.md."""

from __future__ import annotations

import dataclasses

from digest.config import SECTIONS, THEME_KEYS


def test_every_config_key_is_in_the_readme(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            assert f"`{section}.{f.name}`" in readme, f"{section}.{f.name} is not documented"
    for key in THEME_KEYS:
        assert f"`themes.{key}`" in readme


def test_quick_start_is_the_two_make_commands(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make digest", "make test"]
