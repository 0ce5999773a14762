"""A study's statistics: per-participant values, means with intervals, tests, and agreement with hand labels."""
