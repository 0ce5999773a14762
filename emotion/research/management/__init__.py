"""Command-line tools of the research app."""
