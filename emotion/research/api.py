"""The JSON API for scripts: token (or session) authentication, each user sees their own analyses."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from . import services
from .exports import csv_response, json_response
from .models import Analysis, visible_analyses
from .serializers import AnalysisSerializer, UploadSerializer
from .validation import UploadRefused, refuse_oversized_request


class CSVPassthrough(BaseRenderer):
    """Lets a script ask for results.csv with `Accept: text/csv`; the view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):      # an error ({"detail": ...}): say what went wrong, as text
            return "".join(f"{_text(v)}\n" if k == "detail" else f"{k}: {_text(v)}\n" for k, v in data.items())
        return data


def _text(value) -> str:
    return "; ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _unavailable(exc: services.QueueUnavailable) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "60"})


class AnalysisViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = AnalysisSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):      # schema generation has no real user
            return Analysis.objects.none()
        return visible_analyses(self.request.user)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: AnalysisSerializer,
                   400: OpenApiResponse(description="the upload was refused; the field named says why"),
                   503: OpenApiResponse(description="the job queue is unavailable; nothing was stored")})
    def create(self, request):
        try:
            refuse_oversized_request(request.META.get("CONTENT_LENGTH"))
        except UploadRefused as exc:
            raise ValidationError({"file": [str(exc)]})
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            analysis = services.create_analysis(request.user, data["file"], data.get("title", ""),
                                                data.get("notes", ""), data.get("frame_step"))
        except UploadRefused as exc:
            raise ValidationError({"file": [str(exc)]})
        except services.QueueUnavailable as exc:
            return _unavailable(exc)
        body = AnalysisSerializer(analysis, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    def perform_destroy(self, instance):
        services.delete_analysis(instance)

    @extend_schema(request=None, responses={202: AnalysisSerializer, 409: OpenApiResponse(description="still queued or running"),
                                            503: OpenApiResponse(description="the job queue is unavailable")})
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        analysis = self.get_object()
        if not analysis.finished:
            # also keeps a file that crashes workers from being queued again and again
            return Response({"detail": "This analysis is still queued or running."}, status=status.HTTP_409_CONFLICT)
        try:
            analysis = services.rerun(analysis)
        except services.QueueUnavailable as exc:
            return _unavailable(exc)
        return Response(AnalysisSerializer(analysis, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR},
                   description="One row per face per analysed frame: frame, time, face_id, x, y, w, h, "
                               "the 7 probabilities, dominant, model_version.")
    @action(detail=True, methods=["get"], url_path="results.csv", renderer_classes=[CSVPassthrough])
    def results_csv(self, request, pk=None):
        return csv_response(request._request, self.get_object())

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT},
                   description="The analysis' metadata and summary, and `results`: the rows of results.csv as objects.")
    @action(detail=True, methods=["get"], url_path="results.json", renderer_classes=[JSONRenderer])
    def results_json(self, request, pk=None):
        return json_response(request._request, self.get_object())
