"""``python -m digest``."""

from .cli import cli

cli(prog_name="digest")
