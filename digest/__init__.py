"""digest: turn a month of articles into a newsletter people want to read."""

__version__ = "0.1.0"
