"""The shape of a stimulus' time course answer (timecourse.py builds it), for the OpenAPI schema."""

from rest_framework import serializers

from emotion.research.api.stats_serializers import Comparison, GroupMean

from .timecourse import MEASURES


def _numbers(help_text: str, child=None):
    return serializers.ListField(child=child or serializers.FloatField(allow_null=True), help_text=help_text)


class Series(serializers.Serializer):
    mean = _numbers("per bin: the mean of the participants' values; null where no participant has a frame")
    low = _numbers("per bin: the 95% interval's lower end, t with n - 1 df; null where n < 2")
    high = _numbers("per bin: the 95% interval's upper end")
    n = _numbers("per bin: participants with counted frames in the bin", serializers.IntegerField())


MeasureSeries = type("MeasureSeries", (serializers.Serializer,), {m: Series() for m in MEASURES})


class Bin(serializers.Serializer):
    start = serializers.FloatField(help_text="seconds of stimulus time, included")
    end = serializers.FloatField(help_text="excluded, but for the last bin, which ends at the duration")


class CourseGroup(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text='"all", a condition (null: recordings without one), a '
                                                          "category's value, or a side of a number's median")
    label = serializers.CharField(help_text="as the page names it")
    participants = serializers.IntegerField()
    frames = serializers.IntegerField(help_text="counted frames of the group's participants")
    series = MeasureSeries(help_text="per measure (each emotion's mean probability, and valence): arrays over bins")


class MarkerMean(GroupMean):
    condition = None
    group = serializers.CharField(allow_null=True, help_text="the group's key")


class MarkerTest(Comparison):
    by = None
    condition = None


class CourseMarker(serializers.Serializer):
    name = serializers.CharField()
    start = serializers.FloatField()
    end = serializers.FloatField()
    means = MarkerMean(many=True, help_text="per measure and group: the mean of each participant's mean over the "
                                            "marker's span [start, end)")
    tests = MarkerTest(many=True, help_text="per measure, between each two groups")


class CourseLeftOut(serializers.Serializer):
    frames_not_counted = serializers.IntegerField(help_text="unreliable, in a gap, or outside the stimulus")
    without_group_value = serializers.ListField(child=serializers.CharField(),
                                                help_text="participants without a value of the variable grouped by")
    uncorrected = serializers.ListField(child=serializers.CharField(),
                                        help_text="with baseline=1: participants without a baseline, left uncorrected")


class TimeCourse(serializers.Serializer):
    stimulus = serializers.IntegerField()
    title = serializers.CharField()
    unit = serializers.CharField(help_text='always "participant"')
    confidence = serializers.FloatField()
    duration = serializers.FloatField(help_text="seconds")
    bin = serializers.FloatField(help_text="bin width, seconds")
    by = serializers.CharField(help_text='"all", "condition" or "variable:<name>"')
    baseline_corrected = serializers.BooleanField()
    measures = serializers.ListField(child=serializers.CharField())
    participants = serializers.IntegerField()
    recordings = serializers.IntegerField(help_text="finished recordings counted")
    recordings_not_counted = serializers.IntegerField(help_text="running ones, and uploads not analysed (or not "
                                                                "visible to you)")
    bins = Bin(many=True)
    groups = CourseGroup(many=True)
    markers = CourseMarker(many=True)
    left_out = CourseLeftOut()
