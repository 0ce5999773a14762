"""Research: uploads analysed into per-face timelines, their studies, statistics, exports and the API."""
