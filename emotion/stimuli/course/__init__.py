"""The time course of emotions over a stimulus, across participants, with intervals; pages, API, exports."""
