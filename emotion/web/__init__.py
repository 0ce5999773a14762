"""Web plumbing every app shares, importing no feature app: middleware, refusals, streamed downloads, health and metrics registries."""
