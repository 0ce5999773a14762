"""manage.py analyze: the engine on files, without the site."""
