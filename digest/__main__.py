"""``python -m digest``."""

from .cli import cli

if __name__ == "__main__":  # not when a spawned worker process re-imports this module
    cli(prog_name="digest")
