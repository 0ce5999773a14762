"""The API of a study's statistics and exports, and of one analysis' baseline and hand labels.

Reading follows visible_studies and visible_analyses (emotion/access.py); a study or analysis the user may
not see is a 404, as elsewhere. Uploading hand labels needs the right to edit the analysis
(editable_analyses): one the user may only view is a 403 saying so.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from emotion.access import editable_analyses, visible_analyses, visible_studies

from ..exports.study import results_csv_response, results_json_response, summary_csv_response
from ..exports.tidy import tidy_csv_response
from ..models import HandLabels
from ..stats import agreement as agreement_mod
from ..stats.statistics import NoBaseline, baseline_of, study_statistics
from ..stats.study_inference import BadOption, study_inference
from .analyses import CSVPassthrough
from .stats_serializers import Agreement, BaselineVector, LabelUpload, StudyInference, StudySummary

NOT_FOUND = OpenApiResponse(description="no such study or analysis, or not one you may see")


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


class _StudyView(APIView):
    def study_and_analyses(self, request, pk):
        study = get_object_or_404(visible_studies(request.user), pk=pk)
        return study, visible_analyses(request.user).filter(study=study)


class StudySummaryView(_StudyView):
    @extend_schema(parameters=[OpenApiParameter("baseline", OpenApiTypes.BOOL, description=(
        "1: each row and condition also has `corrected`, its means minus the participant's baseline clip's"))],
        responses={200: StudySummary, 404: NOT_FOUND},
        description="Per participant and condition, and per condition: finished analyses, reliable face-frames "
                    "used and left out, mean probability and share of time per emotion, mean valence.")
    def get(self, request, pk):
        study, analyses = self.study_and_analyses(request, pk)
        figures = study_statistics(study, analyses, baseline=_truthy(request.query_params.get("baseline")))
        return Response(figures)       # StudySummary's shape (documented, not rewritten)


class StudyResultsCSV(_StudyView):
    renderer_classes = [CSVPassthrough]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
                   description="Every finished analysis' results, one row per face per frame: study, participant, "
                               "condition, analysis, title, is_baseline, the result columns and valence.")
    def get(self, request, pk):
        return results_csv_response(request._request, *self.study_and_analyses(request, pk))


class StudySummaryCSV(_StudyView):
    renderer_classes = [CSVPassthrough]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
                   description="One row per participant and condition: the figures of summary/, with the "
                               "baseline-corrected means (empty without a baseline).")
    def get(self, request, pk):
        return summary_csv_response(request._request, *self.study_and_analyses(request, pk))


class StudyResultsJSON(_StudyView):
    renderer_classes = [JSONRenderer]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, 404: NOT_FOUND},
                   description="The study, its summary (baseline-corrected too) and `results`: the rows of "
                               "results.csv as objects.")
    def get(self, request, pk):
        return results_json_response(request._request, *self.study_and_analyses(request, pk))


BASELINE = OpenApiParameter("baseline", OpenApiTypes.BOOL, description=(
    "1: each participant's values minus their baseline clip's; participants without one are left out"))
FILTER = OpenApiParameter("filter", OpenApiTypes.STR, many=True, explode=True, description=(
    "keep only participants with this variable value: `group:control`; a number variable also takes a "
    "range, `age:18..30` (`age:..30`, `age:65..`). Repeat to combine (all must hold)."))
SPLIT = OpenApiParameter("split", OpenApiTypes.STR, description=(
    "a category variable: means per condition and group, and Welch's t between each two groups"))
BAD_OPTION = OpenApiResponse(description="a split or filter that does not fit the study's variables; the "
                                         "parameter named says why")


def _options(request) -> dict:
    return {"baseline": _truthy(request.query_params.get("baseline")),
            "filters": tuple(request.query_params.getlist("filter"))}


class StudyInferenceView(_StudyView):
    @extend_schema(parameters=[BASELINE, SPLIT, FILTER], responses={200: StudyInference, 400: BAD_OPTION,
                                                                    404: NOT_FOUND},
                   description="Participants as the unit: per condition (and group, with `split`) and measure, the "
                               "mean of the participants' values with its 95% interval and n; between each two "
                               "conditions a paired t-test on the participants who saw both (Welch's t when none "
                               "did), between groups Welch's t; each with its effect size (d_z or Cohen's d) and a "
                               "95% interval by the noncentral t. `label` says in one line what was tested.")
    def get(self, request, pk):
        study, analyses = self.study_and_analyses(request, pk)
        try:
            return Response(study_inference(study, analyses, split=request.query_params.get("split") or None,
                                            **_options(request)))
        except BadOption as exc:
            raise ValidationError({exc.field: [str(exc)]})


class StudyTidyCSV(_StudyView):
    renderer_classes = [CSVPassthrough]

    @extend_schema(parameters=[BASELINE, FILTER], responses={(200, "text/csv"): OpenApiTypes.STR, 400: BAD_OPTION,
                                                             404: NOT_FOUND},
                   description="The values the statistics test, tidy and long: one row per participant x condition "
                               "x measure, columns participant, condition, each participant variable, measure, "
                               "value, frames. pandas.read_csv and R's read.csv read it as it is.")
    def get(self, request, pk):
        try:
            return tidy_csv_response(request._request, *self.study_and_analyses(request, pk), **_options(request))
        except BadOption as exc:
            raise ValidationError({exc.field: [str(exc)]})


class AnalysisBaselineView(APIView):
    @extend_schema(responses={200: BaselineVector, 404: OpenApiResponse(
        description="no such analysis, or it has no baseline (no participant, none marked, not finished, no "
                    "reliable results); `detail` says which")},
        description="The mean probabilities and valence of the baseline clip of this analysis' participant, "
                    "to subtract from its curves.")
    def get(self, request, pk):
        visible = visible_analyses(request.user)
        analysis = get_object_or_404(visible, pk=pk)
        try:
            return Response(baseline_of(analysis, visible))
        except NoBaseline as exc:
            raise NotFound(str(exc))


class AnalysisLabelsView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": LabelUpload}, responses={
        200: Agreement, 400: OpenApiResponse(description="the file was refused; `file` lists the problems by line"),
        403: OpenApiResponse(description="you may view this analysis but not edit it"), 404: NOT_FOUND,
        409: OpenApiResponse(description="the analysis is still queued or running")},
        description="Upload hand labels (CSV: start,end,label or frame,label, optional face_id) and get their "
                    "agreement with the engine's labels; replaces any labels uploaded before.")
    def post(self, request, pk):
        analysis = get_object_or_404(visible_analyses(request.user), pk=pk)
        if not editable_analyses(request.user).filter(pk=pk).exists():
            raise PermissionDenied("You may view this analysis but not change it; ask the study's owner for the "
                                   "editor role.")
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Choose a CSV file of hand labels."]})
        try:
            figures = agreement_mod.store(analysis, request.user, upload)
        except agreement_mod.LabelFileError as exc:
            raise ValidationError({"file": exc.errors})
        except agreement_mod.NotFinished as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(figures)


class AnalysisAgreementView(APIView):
    @extend_schema(responses={200: Agreement, 404: OpenApiResponse(
        description="no such analysis, or no hand labels were uploaded for it")},
        description="The agreement of the last hand labels uploaded with the engine's labels (computed again "
                    "after a re-run).")
    def get(self, request, pk):
        analysis = get_object_or_404(visible_analyses(request.user), pk=pk)
        labels = HandLabels.objects.filter(analysis=analysis).select_related("analysis").first()
        if labels is None:
            raise NotFound("No hand labels were uploaded for this analysis.")
        return Response(agreement_mod.current(labels))
