"""Command-line tools of the privacy app."""
