"""manage.py purge: the retention purge, also run by Celery beat."""
