"""The JSON API for scripts: token (or session) authentication. Each user sees their own analyses and
those of their studies; what they may change follows their role (emotion/access.py, the same rule as the
pages)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from emotion.access import analysis_may, study_may, visible_analyses, visible_studies
from emotion.ml.results import COLUMNS

from ..analyses import services
from ..analyses.validation import UploadRefused, refuse_oversized_request
from ..exports.analysis import csv_response, json_response
from ..models import Analysis, Role, Study
from ..studies import services as study_services
from .serializers import (AnalysisEditSerializer, AnalysisSerializer, MemberSerializer, StudySerializer,
                          UploadIntoStudySerializer)


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


def _busy(exc: services.Busy) -> Response:
    """429 (the user's share is used up) or 503 (the server is busy), saying when to try again."""
    return Response({"detail": str(exc)}, status=exc.status, headers={"Retry-After": str(exc.retry_after)})


def refused(exc) -> ValidationError:
    """A refusal (services.Refused, or any error with the ``field`` it names) as the API's 400: the field
    named, or "detail" for the request as a whole."""
    return ValidationError({exc.field or "detail": [str(exc)]})


def _require(user, analysis: Analysis, need: str) -> None:
    """403 for an analysis the user sees but may not change this way (one they do not see is a 404)."""
    if not analysis_may(user, analysis, need):
        raise PermissionDenied("You may view this analysis but not change it: that takes the editor role in its "
                               "study." if need == Role.EDITOR else "Only the study's owner may delete its analyses.")


def edits(form_class, data) -> dict:
    """The changes a PATCH asks for, checked by ``form_class``; a field it does not take is a 400 naming
    it (silently ignoring it would look like success)."""
    form = form_class(data=data)
    form.is_valid(raise_exception=True)
    unknown = set(data) - set(form.fields)
    if unknown:
        raise ValidationError({"detail": [f"These cannot be changed here: {', '.join(sorted(unknown))}. "
                                          f"Editable: {', '.join(form.fields)}."]})
    return form.validated_data


STATUS_FILTER = OpenApiParameter("status", str, enum=Analysis.Status.values, description="only analyses in this state")
STUDY_FILTER = OpenApiParameter("study", int, description="only the analyses of this study (its id)")


class AnalysisViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = AnalysisSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):      # schema generation has no real user
            return Analysis.objects.none()
        qs = visible_analyses(self.request.user)
        if self.action != "list":
            return qs
        wanted = self.request.query_params
        if wanted.get("status"):
            if wanted["status"] not in Analysis.Status.values:
                raise ValidationError({"status": [f"One of: {', '.join(Analysis.Status.values)}."]})
            qs = qs.filter(status=wanted["status"])
        if wanted.get("study"):
            if not wanted["study"].isdigit():
                raise ValidationError({"study": ["A study's id, a whole number."]})
            qs = qs.filter(study_id=int(wanted["study"]))
        return qs

    @extend_schema(parameters=[STATUS_FILTER, STUDY_FILTER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": UploadIntoStudySerializer}, responses={201: AnalysisSerializer,
                   400: OpenApiResponse(description="the upload was refused; the field named says why (several "
                                                    "files in one request are refused: send one per request)"),
                   403: OpenApiResponse(description="you may view the study but not upload into it"),
                   429: OpenApiResponse(description="your share is used up: too many files in the last minute, "
                                                    "analyses queued or running, or uploads being checked at once; "
                                                    "Retry-After says when to try again; nothing was stored"),
                   503: OpenApiResponse(description="the job queue is unavailable, or the server is busy checking "
                                                    "other uploads (Retry-After); nothing was stored")})
    def create(self, request):
        try:
            refuse_oversized_request(request.META.get("CONTENT_LENGTH"))
        except UploadRefused as exc:
            raise ValidationError({"file": [str(exc)]})
        sent = sum(len(request.FILES.getlist(k)) for k in request.FILES)
        if sent > 1:
            raise ValidationError({"file": [f"{sent} files were sent; send one file per request (nothing was "
                                            "stored)."]})
        form = UploadIntoStudySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        study = self._study_to_upload_into(data.get("study"))
        try:
            services.count_uploads(request.user, 1)       # the same count as the upload page's
            analysis = services.create_analysis(request.user, data["file"], data.get("title", ""),
                                                data.get("notes", ""), data.get("frame_step"), study=study,
                                                participant=data.get("participant", ""),
                                                condition=data.get("condition", ""))
        except services.Refused as exc:
            raise refused(exc)
        except UploadRefused as exc:
            raise ValidationError({"file": [str(exc)]})
        except services.QueueUnavailable as exc:
            return _unavailable(exc)
        except services.Busy as exc:
            return _busy(exc)
        body = AnalysisSerializer(analysis, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    def _study_to_upload_into(self, pk):
        if pk is None:
            return None
        study = visible_studies(self.request.user).filter(pk=pk).first()
        if study is None:
            raise ValidationError({"study": [f"There is no study {pk} that you are a member of."]})
        if not study_may(self.request.user, study, "upload"):
            raise PermissionDenied("Uploading into this study takes the editor role; you may view it only.")
        return study

    @extend_schema(request=AnalysisEditSerializer, responses={200: AnalysisSerializer,
                   400: OpenApiResponse(description="a change was refused; the field named says why"),
                   403: OpenApiResponse(description="you may view this analysis but not change it")})
    def partial_update(self, request, pk=None):
        analysis = self.get_object()
        _require(request.user, analysis, Role.EDITOR)
        try:
            analysis = services.update_analysis(analysis, **edits(AnalysisEditSerializer, request.data))
        except services.Refused as exc:
            raise refused(exc)
        return Response(AnalysisSerializer(analysis, context={"request": request}).data)

    @extend_schema(responses={204: None, 403: OpenApiResponse(description="only the study's owner deletes")})
    def destroy(self, request, *args, **kwargs):
        _require(request.user, self.get_object(), Role.OWNER)
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.delete_analysis(instance)

    @extend_schema(request=None, responses={202: AnalysisSerializer, 409: OpenApiResponse(description="still queued or running"),
                                            403: OpenApiResponse(description="you may view it only"),
                                            429: OpenApiResponse(description="its owner has as many analyses "
                                                                             "queued or running as one user may"),
                                            503: OpenApiResponse(description="the job queue is unavailable")})
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        analysis = self.get_object()
        _require(request.user, analysis, Role.EDITOR)
        if not analysis.finished:
            # also keeps a file that crashes workers from being queued again and again
            return Response({"detail": "This analysis is still queued or running."}, status=status.HTTP_409_CONFLICT)
        try:
            analysis = services.rerun(analysis)
        except services.OriginalGone as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except services.QueueUnavailable as exc:
            return _unavailable(exc)
        except services.Busy as exc:
            return _busy(exc)
        return Response(AnalysisSerializer(analysis, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR},
                   description="One row per face per analysed frame: " + ", ".join(COLUMNS)
                               + " (the quality fields and the reliability rule: emotion/ml/quality.py).")
    @action(detail=True, methods=["get"], url_path="results.csv", renderer_classes=[CSVPassthrough])
    def results_csv(self, request, pk=None):
        return csv_response(request._request, self.get_object())

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT},
                   description="The analysis' metadata and summary, and `results`: the rows of results.csv as objects.")
    @action(detail=True, methods=["get"], url_path="results.json", renderer_classes=[JSONRenderer])
    def results_json(self, request, pk=None):
        return json_response(request._request, self.get_object())


class StudyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                   viewsets.GenericViewSet):
    """Studies you own or are a member of. Anyone signed in may create one (and owns it)."""

    serializer_class = StudySerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Study.objects.none()
        return visible_studies(self.request.user).prefetch_related("memberships__user", "participants", "conditions")

    def perform_create(self, serializer):
        try:
            serializer.instance = study_services.create_study(self.request.user, serializer.validated_data["name"],
                                                        serializer.validated_data.get("description", ""))
        except services.Refused as exc:
            raise refused(exc)

    @extend_schema(responses={204: None, 403: OpenApiResponse(description="only the study's owner deletes it")},
                   description="Deletes the study with its analyses and their files.")
    def destroy(self, request, *args, **kwargs):
        study = self.get_object()
        if not study_may(request.user, study, "delete"):
            raise PermissionDenied("Only the study's owner may delete it.")
        study_services.delete_study(study)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MemberSerializer, responses={200: StudySerializer,
                   400: OpenApiResponse(description="no user name, the owner's, or a role other than viewer or editor"),
                   403: OpenApiResponse(description="only the study's owner manages members")},
                   description="Invites a user by name, or changes a member's role (viewer or editor). The answer is "
                               "the same whether or not the name exists (`detail` says so); the invited user "
                               "becomes a member, listed in `members`, once they accept on their studies page.")
    @action(detail=True, methods=["post"])
    def members(self, request, pk=None):
        study = self.get_object()
        if not study_may(request.user, study, "members"):
            raise PermissionDenied("Only the study's owner may change its members.")
        form = MemberSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        username, role = form.validated_data["user"]["username"], form.validated_data["role"]
        try:
            member = study_services.invite_member(study, username, role)
        except services.Refused as exc:
            raise refused(exc)
        study = self.get_queryset().get(pk=study.pk)
        return Response({**StudySerializer(study, context={"request": request}).data,
                         "detail": study_services.invited_message(username, role, member)})
