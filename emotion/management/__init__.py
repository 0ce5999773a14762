"""Command-line tools of the core app."""
