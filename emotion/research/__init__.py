"""Research uploads: images and videos analysed by Celery workers into per-frame, per-face timelines."""
