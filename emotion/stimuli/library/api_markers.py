"""The API of a stimulus' event markers: the list (GET, POST one, PUT all), one marker (GET, PATCH,
PUT, DELETE) and the CSV both ways (markers.csv: GET, PUT replacing them all). Every span is checked by
markers.py, the pages' rule: 0 <= start <= end <= the stimulus' duration."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from emotion.research.api.analyses import CSVPassthrough, refused

from . import markers
from .api import NOT_FOUND, VIEW_ONLY, stimulus_for
from .marker_views import csv_name
from .serializers import MarkerSerializer

REFUSED = OpenApiResponse(description="a marker was refused (its field named, or its place in the list); nothing "
                                      "was changed")


class Markers(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: MarkerSerializer(many=True), 404: NOT_FOUND},
                   description="The stimulus' markers, by start.")
    def get(self, request, pk):
        return Response(MarkerSerializer(stimulus_for(request, pk).markers.all(), many=True).data)

    @extend_schema(request=MarkerSerializer, responses={201: MarkerSerializer, 400: REFUSED, 403: VIEW_ONLY,
                                                        404: NOT_FOUND},
                   description="Adds a marker: `name`, `start` and `end` in seconds, 0 <= start <= end <= duration.")
    def post(self, request, pk):
        stimulus = stimulus_for(request, pk, change=True)
        try:
            marker = markers.add(stimulus, request.data.get("name"), request.data.get("start"), request.data.get("end"))
        except markers.MarkerRefused as exc:
            raise refused(exc)
        return Response(MarkerSerializer(marker).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MarkerSerializer(many=True), responses={200: MarkerSerializer(many=True), 400: REFUSED,
                                                                   403: VIEW_ONLY, 404: NOT_FOUND},
                   operation_id="stimuli_markers_replace",
                   description="Replaces all the stimulus' markers with the list sent (all or nothing).")
    def put(self, request, pk):
        stimulus = stimulus_for(request, pk, change=True)
        if not isinstance(request.data, list) or not all(isinstance(m, dict) for m in request.data):
            raise ValidationError({"detail": ['A list of markers: [{"name": …, "start": …, "end": …}, …].']})
        try:
            markers.replace(stimulus, request.data)
        except markers.MarkerRefused as exc:
            raise refused(exc)
        return Response(MarkerSerializer(stimulus.markers.all(), many=True).data)


class Marker(APIView):
    parser_classes = [JSONParser]

    def _marker(self, request, pk, marker_id, change: bool = False):
        return get_object_or_404(stimulus_for(request, pk, change).markers, pk=marker_id)

    @extend_schema(responses={200: MarkerSerializer, 404: NOT_FOUND})
    def get(self, request, pk, marker_id):
        return Response(MarkerSerializer(self._marker(request, pk, marker_id)).data)

    @extend_schema(request=MarkerSerializer, responses={200: MarkerSerializer, 400: REFUSED, 403: VIEW_ONLY,
                                                        404: NOT_FOUND},
                   description="Changes any of `name`, `start` and `end`; the span is checked as a whole.")
    def patch(self, request, pk, marker_id):
        marker = self._marker(request, pk, marker_id, change=True)
        try:                            # the marker's own id may come back with it, as GET gave it
            markers.change(marker, **{f: v for f, v in request.data.items() if f != "id"})
        except markers.MarkerRefused as exc:
            raise refused(exc)
        return Response(MarkerSerializer(marker).data)

    @extend_schema(request=MarkerSerializer, responses={200: MarkerSerializer, 400: REFUSED, 403: VIEW_ONLY,
                                                        404: NOT_FOUND},
                   operation_id="stimuli_marker_update", description="The same as PATCH.")
    def put(self, request, pk, marker_id):
        return self.patch(request, pk, marker_id)

    @extend_schema(responses={204: None, 403: VIEW_ONLY, 404: NOT_FOUND})
    def delete(self, request, pk, marker_id):
        self._marker(request, pk, marker_id, change=True).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class CSVBody(BaseParser):
    """A PUT of the file itself (``curl -T markers.csv`` or ``--data-binary @markers.csv``)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(markers.MAX_BYTES + 1) if stream is not None else b""


class MarkersUpload(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, UTF-8, header name,start,end; at most 1 MB")


class MarkersImported(serializers.Serializer):
    imported = serializers.IntegerField(help_text="markers now on the stimulus")
    markers = MarkerSerializer(many=True)


class MarkersCSV(APIView):
    parser_classes = [CSVBody, MultiPartParser]

    def get_renderers(self):
        # the download is CSV; the import's answer (and its errors) JSON
        return [CSVPassthrough()] if getattr(self.request, "method", "GET") == "GET" else [JSONRenderer()]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
                   description="The markers as CSV: name,start,end, by start; spreadsheet-safe.")
    def get(self, request, pk):
        stimulus = stimulus_for(request, pk)
        return HttpResponse(markers.export_csv(stimulus), content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{csv_name(stimulus)}"'})

    @extend_schema(request={"text/csv": OpenApiTypes.STR, "multipart/form-data": MarkersUpload}, responses={
        200: MarkersImported, 400: OpenApiResponse(description="the file was refused, nothing changed; `file` lists "
                                                            "every bad line by number"),
        403: VIEW_ONLY, 404: NOT_FOUND},
        description="Replaces the markers with those of a CSV (name,start,end), sent as the body (text/csv) or "
                    "as `file` in a form. All or nothing.")
    def put(self, request, pk):
        stimulus = stimulus_for(request, pk, change=True)
        upload = request.FILES.get("file")
        data = upload.read(markers.MAX_BYTES + 1) if upload is not None else request.data
        if not isinstance(data, bytes) or not data:
            raise ValidationError({"file": ["Send the CSV as the body (Content-Type: text/csv) or as `file`."]})
        try:
            done = markers.import_csv(stimulus, data)
        except markers.MarkerFileError as exc:
            raise ValidationError({"file": exc.errors})
        except markers.MarkerRefused as exc:
            raise ValidationError({"file": [str(exc)]})
        return Response({"imported": len(done), "markers": MarkerSerializer(stimulus.markers.all(), many=True).data})
