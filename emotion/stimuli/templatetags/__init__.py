"""Template tags of the stimulus pages (the study page's stimuli card, seconds, field limits)."""
