"""Template tags of the research pages (field limits, number formats)."""
