"""Operators' commands for analyses (e.g. requeue the stuck ones)."""
