"""Stimulus studies: stimulus media with event markers, invitation links, and participants' readings on the stimulus' time axis."""
