"""Stored media for those who see every analysis: the admin links an analysis's file and annotated media
to MEDIA_URL.

Nothing else serves /media/ (daphne serves no files; WhiteNoise serves static files only), so those
links were 404s. Uploads are private research data: here they are served only to those who may see
every analysis anyway (emotion/access.py: research.view_analysis, or a superuser), and always as a
download (never rendered by the browser). Anyone else gets a 404, staff without that permission too.
With another storage backend (FER_STORAGE_BACKEND) the admin links to that backend's URLs.
"""

from __future__ import annotations

import mimetypes
import os

from django.core.files.storage import default_storage
from django.http import Http404

from emotion.access import serves_stored_media
from emotion.web.streaming import file_chunks, stream


def stored_media(request, name: str):
    if not serves_stored_media(request.user):
        raise Http404("No such file")
    if not default_storage.exists(name):      # a name outside MEDIA_ROOT raises SuspiciousFileOperation: 400
        raise Http404("No such file")
    if _is_folder(name):                      # checked before any header goes out: a folder is no file
        raise Http404("No such file")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return stream(request, file_chunks(default_storage, name), content_type, name.rsplit("/", 1)[-1],
                  attachment=True, length=default_storage.size(name))


def _is_folder(name: str) -> bool:
    """Whether ``name`` is a folder of the storage (``exists`` is true for folders too). Backends
    without local paths (object storage) have no folders to fall into."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        return name.endswith("/")
    return os.path.isdir(path)
