"""/api/ itself: an index of what the API offers, and its interactive documentation (Swagger UI from the
drf-spectacular-sidecar package, served by this site: no CDN)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from emotion.web.csp import policy

# Swagger UI draws its icons as data: SVG images in its stylesheet; the site's policy allows images
# from itself only. This page alone also allows data: images; scripts stay this site's own files.
DOCS_IMG_SRC = "img-src 'self' data:"


class ApiIndex(APIView):
    """What a script (or a person) finds at /api/: where the schema, the docs and the collections are."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({
            "schema": reverse("api-schema", request=request),
            "docs": reverse("api-docs", request=request),
            "analyses": reverse("analysis-list", request=request),
            "studies": reverse("study-list", request=request),
            "authentication": "Authorization: Token <key>; an admin makes a key with "
                              "`python manage.py drf_create_token <username>`.",
        })


class ApiDocs(SpectacularSwaggerSplitView):
    """Swagger UI, its start-up script served as a file of its own (?script), so script-src stays 'self'."""

    url_name = "api-schema"
    permission_classes = [AllowAny]
    template_name = "research/api_docs.html"
    title = "FER API"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = policy(request).replace("img-src 'self'", DOCS_IMG_SRC)
        return response
