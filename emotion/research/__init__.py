"""Research: uploads analysed by Celery workers into per-face timelines, the studies they belong to, statistics, exports, API."""
