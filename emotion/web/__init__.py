"""Web plumbing every app shares, naming no feature app: middleware, refusals, streaming, health, metrics."""
