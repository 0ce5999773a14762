"""The API of a study's stimuli: list and upload them (/api/studies/<id>/stimuli/), read, change and
delete one (/api/stimuli/<id>/). Access as for the study (access.py): a study or stimulus the user may
not see is a 404; its members read; uploading, changing and deleting take the editor role (403)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from emotion.access import study_may, visible_studies
from emotion.research.analyses.shares import Busy
from emotion.research.analyses.validation import UploadRefused, refuse_oversized_request
from emotion.research.api.analyses import edits, refused
from emotion.web.refusals import Refused

from ..access import CHANGE, stimulus_may_change, visible_stimulus
from . import services
from .serializers import StimulusEditSerializer, StimulusSerializer, StimulusUploadSerializer
from .views import media_response

NOT_FOUND = OpenApiResponse(description="no such study or stimulus, or not one you may see")
VIEW_ONLY = OpenApiResponse(description="you may view this study but not change its stimuli (that takes the editor "
                                        "role)")
VIEW_ONLY_TEXT = "You may view this study but not change its stimuli; that takes the editor role."


def stimulus_for(request, pk, change: bool = False):
    """The stimulus (404 when not visible), and 403 when ``change`` is asked of a viewer."""
    stimulus = visible_stimulus(request.user, pk)
    if change and not stimulus_may_change(request.user, stimulus):
        raise PermissionDenied(VIEW_ONLY_TEXT)
    return stimulus


class StudyStimuli(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def _study(self, request, pk):
        return get_object_or_404(visible_studies(request.user), pk=pk)

    @extend_schema(responses={200: StimulusSerializer(many=True), 404: NOT_FOUND},
                   description="The study's stimuli, oldest first, each with its markers.")
    def get(self, request, pk):
        stimuli = self._study(request, pk).stimuli.prefetch_related("markers").select_related("created_by")
        return Response(StimulusSerializer(stimuli, many=True, context={"request": request}).data)

    @extend_schema(request={"multipart/form-data": StimulusUploadSerializer}, responses={
        201: StimulusSerializer,
        400: OpenApiResponse(description="the file or a field was refused, nothing stored; the field named says why"),
        403: VIEW_ONLY, 404: NOT_FOUND,
        429: OpenApiResponse(description="your share of uploads or checks is used up; Retry-After says when to try "
                                         "again"),
        503: OpenApiResponse(description="the server is busy checking other uploads (Retry-After)")},
        description="Uploads a stimulus: an image or a video, checked as an analysis upload is (its content decides "
                    "its format; size, pixels and a video's duration are limited). A video's duration is read from "
                    "the file; an image is shown for `duration` seconds (default 10).")
    def post(self, request, pk):
        study = self._study(request, pk)
        if not study_may(request.user, study, CHANGE):
            raise PermissionDenied(VIEW_ONLY_TEXT)
        try:
            refuse_oversized_request(request.META.get("CONTENT_LENGTH"))
        except UploadRefused as exc:
            raise ValidationError({"file": [str(exc)]})
        if sum(len(request.FILES.getlist(k)) for k in request.FILES) > 1:
            raise ValidationError({"file": ["Send one file per request (nothing was stored)."]})
        form = StimulusUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            stimulus = services.create_stimulus(request.user, study, data["file"], data.get("title", ""),
                                                data.get("consent_text", ""), data.get("duration"))
        except Refused as exc:
            raise refused(exc)
        except UploadRefused as exc:
            raise ValidationError({"file": [str(exc)]})
        except Busy as exc:
            return Response({"detail": str(exc)}, status=exc.status, headers={"Retry-After": str(exc.retry_after)})
        body = StimulusSerializer(stimulus, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class StimulusDetail(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses={200: StimulusSerializer, 404: NOT_FOUND})
    def get(self, request, pk):
        return Response(StimulusSerializer(stimulus_for(request, pk), context={"request": request}).data)

    @extend_schema(request=StimulusEditSerializer, responses={
        200: StimulusSerializer, 400: OpenApiResponse(description="a change was refused; the field named says why"),
        403: VIEW_ONLY, 404: NOT_FOUND},
        description="Changes any of `title`, `consent_text` and, for an image, `duration` (no marker may end "
                    "after it); any other field is a 400 naming it.")
    def patch(self, request, pk):
        stimulus = stimulus_for(request, pk, change=True)
        try:
            services.update_stimulus(stimulus, **edits(StimulusEditSerializer, request.data))
        except Refused as exc:
            raise refused(exc)
        return Response(StimulusSerializer(stimulus, context={"request": request}).data)

    @extend_schema(responses={204: None, 403: VIEW_ONLY, 404: NOT_FOUND},
                   description="Deletes the stimulus with its markers and its file.")
    def delete(self, request, pk):
        services.delete_stimulus(stimulus_for(request, pk, change=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StimulusMedia(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              (206, "application/octet-stream"): OpenApiTypes.BINARY, 404: NOT_FOUND},
                   description="The stimulus' file, as checked at upload (its Content-Type says what it is); "
                               "answers a `Range: bytes=...` request with 206 and that part.")
    def get(self, request, pk):
        return media_response(request._request, stimulus_for(request, pk))

    def perform_content_negotiation(self, request, force=False):
        # whatever a player accepts: the file answers for itself, and an error is JSON
        return JSONRenderer(), JSONRenderer.media_type
