"""The API of a stimulus' group time course: the figures (JSON) and their tidy CSVs. Who may read them
is the stimulus' study's rule (access.visible_stimulus): a stimulus one may not see is a 404."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from emotion.research.api.analyses import CSVPassthrough
from emotion.research.api.stats import _truthy
from emotion.research.stats.study_inference import BadOption

from ..access import visible_stimulus
from . import data as course_data
from .exports import marker_means_csv, time_course_csv
from .serializers import TimeCourse
from .timecourse import BIN_DEFAULT, BIN_MAX, BIN_MIN, MAX_BINS, time_course

NOT_FOUND = OpenApiResponse(description="no such stimulus, or not one you may see")
BAD_OPTION = OpenApiResponse(description="a bin width or grouping that does not fit; the parameter named says why")
BIN = OpenApiParameter("bin", OpenApiTypes.FLOAT, description=(
    f"bin width in seconds of stimulus time, {BIN_MIN:g} to {BIN_MAX:g} (default {BIN_DEFAULT:g}), at most "
    f"{MAX_BINS} bins"))
BY = OpenApiParameter("by", OpenApiTypes.STR, description=(
    "`condition`, or `variable:<name>` (a category: its values; a number: split at the median of the "
    "participants here); absent: everyone as one group"))
BASELINE = OpenApiParameter("baseline", OpenApiTypes.BOOL, description=(
    "1: each participant's values minus their baseline clip's means; participants without one stay in, "
    "uncorrected, and are listed"))


class _StimulusCourse(APIView):
    def prepared(self, request, pk, by: str = "condition"):
        stimulus = visible_stimulus(request.user, pk)
        q = request.query_params
        try:
            prepared, recordings = course_data.prepare(stimulus, request.user, course_data.parse_bin(q.get("bin")),
                                                       by, _truthy(q.get("baseline")))
        except BadOption as exc:
            raise ValidationError({exc.field: [str(exc)]})
        return stimulus, prepared, recordings


class StimulusTimeCourse(_StimulusCourse):
    @extend_schema(parameters=[BIN, BY, BASELINE], responses={200: TimeCourse, 400: BAD_OPTION, 404: NOT_FOUND},
                   description="Participants as the unit: per bin of stimulus time and group, the mean of the "
                               "participants' mean probability of each emotion and valence over their reliable "
                               "frames there, with its 95% t interval and n; per event marker the group means over "
                               "its span and a test between each two groups (paired t on participants in both, "
                               "Welch's t otherwise) with its effect size and interval.")
    def get(self, request, pk):
        stimulus, prepared, recordings = self.prepared(request, pk, request.query_params.get("by", ""))
        figures = time_course(prepared, course_data.markers(stimulus))
        return Response({"stimulus": stimulus.pk, "title": stimulus.title, **figures,
                         "recordings": recordings["counted"], "recordings_not_counted": recordings["not_counted"]})


def csv_schema(parameters: list, description: str):
    return extend_schema(parameters=parameters, description=description, responses={
        (200, "text/csv"): OpenApiTypes.STR, 400: BAD_OPTION, 404: NOT_FOUND})


class StimulusTimeCourseCSV(_StimulusCourse):
    renderer_classes = [CSVPassthrough]

    @csv_schema([BIN, BASELINE], "Tidy long: one row per participant x condition x bin x measure where the "
                "participant has reliable frames: participant, condition, each participant variable, bin_start, "
                "bin_end, measure, value, frames, baseline_corrected. pandas.read_csv reads it as it is.")
    def get(self, request, pk):
        stimulus, prepared, _ = self.prepared(request, pk)
        return time_course_csv(request._request, stimulus, prepared)


class StimulusMarkerMeansCSV(_StimulusCourse):
    renderer_classes = [CSVPassthrough]

    @csv_schema([BASELINE], "Tidy long: one row per participant x condition x event marker x measure, the "
                "participant's mean over their reliable frames in the marker's span: participant, condition, each "
                "participant variable, marker, marker_start, marker_end, measure, value, frames, baseline_corrected.")
    def get(self, request, pk):
        stimulus, prepared, _ = self.prepared(request, pk)
        return marker_means_csv(request._request, stimulus, prepared, course_data.markers(stimulus))
