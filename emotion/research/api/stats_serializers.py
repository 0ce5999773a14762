"""The shapes of the statistics, baseline and agreement answers, for the OpenAPI schema and to hold
the answers to them (statistics.py and agreement.py build the figures)."""

from rest_framework import serializers

from emotion.ml import EMOTIONS


def _per_emotion(name: str, field, help_text: str):
    return type(name, (serializers.Serializer,), {e: field(help_text=help_text) for e in EMOTIONS})


def _probability(**kw):
    return serializers.FloatField(allow_null=True, **kw)


EmotionMeans = _per_emotion("EmotionMeans", _probability, "mean probability over the reliable face-frames")
EmotionShares = _per_emotion("EmotionShares", _probability, "share of reliable face-frames with this dominant label")
EmotionDifferences = _per_emotion("EmotionDifferences", _probability,
                                  "mean probability minus the participant's baseline mean")


class CorrectedRow(serializers.Serializer):
    baseline_analysis = serializers.IntegerField()
    mean = EmotionDifferences()
    valence = serializers.FloatField(help_text="mean valence minus the baseline's")


class SummaryRow(serializers.Serializer):
    participant = serializers.CharField(allow_null=True, help_text="code; null: analyses with no participant")
    condition = serializers.CharField(allow_null=True, help_text="null: analyses with no condition")
    analyses = serializers.IntegerField(help_text="finished analyses counted")
    frames = serializers.IntegerField(help_text="reliable face-frames used (a frame with two faces counts twice)")
    frames_left_out = serializers.IntegerField(help_text="unreliable face-frames left out")
    mean = EmotionMeans(allow_null=True)
    share = EmotionShares(allow_null=True)
    valence = serializers.FloatField(allow_null=True, help_text="mean valence: happy minus the strongest of "
                                                                 "angry, disgust, fear, sad")
    corrected = CorrectedRow(required=False, allow_null=True,
                             help_text="with ?baseline=1 only; null when the participant has no baseline")


class CorrectedCondition(serializers.Serializer):
    frames = serializers.IntegerField(help_text="face-frames of participants with a baseline")
    mean = EmotionDifferences()
    valence = serializers.FloatField()
    participants_without_baseline = serializers.ListField(child=serializers.CharField(allow_null=True))


class ConditionRow(serializers.Serializer):
    condition = serializers.CharField(allow_null=True)
    participants = serializers.IntegerField()
    analyses = serializers.IntegerField()
    frames = serializers.IntegerField()
    frames_left_out = serializers.IntegerField()
    mean = EmotionMeans(allow_null=True)
    share = EmotionShares(allow_null=True)
    valence = serializers.FloatField(allow_null=True)
    corrected = CorrectedCondition(required=False, allow_null=True)


class StudySummary(serializers.Serializer):
    study = serializers.IntegerField()
    name = serializers.CharField()
    emotions = serializers.ListField(child=serializers.CharField())
    baseline_corrected = serializers.BooleanField()
    analyses_not_counted = serializers.IntegerField(help_text="queued, running or failed analyses of the study")
    rows = SummaryRow(many=True)
    conditions = ConditionRow(many=True)


class BaselineVector(serializers.Serializer):
    participant = serializers.CharField()
    baseline_analysis = serializers.IntegerField()
    frames = serializers.IntegerField(help_text="reliable face-frames of the baseline clip")
    mean = EmotionMeans()
    valence = serializers.FloatField()


class ClassAgreement(serializers.Serializer):
    hand = serializers.IntegerField()
    ours = serializers.IntegerField()
    agree = serializers.IntegerField()
    f1 = serializers.FloatField()


class Agreement(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField(), help_text="the confusion's order")
    n = serializers.IntegerField(help_text="results compared")
    accuracy = serializers.FloatField(allow_null=True)
    macro_f1 = serializers.FloatField(allow_null=True, help_text="over the classes either side used")
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa; null when undefined")
    confusion = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                      help_text="7x7: rows the hand labels, columns ours")
    per_class = serializers.DictField(child=ClassAgreement())
    left_out_unreliable = serializers.IntegerField()
    labels_without_results = serializers.IntegerField(help_text="label rows that found no face")
    label_rows = serializers.IntegerField()
    face_rule = serializers.CharField()
    run = serializers.CharField()
    model_version = serializers.CharField(allow_blank=True)


class LabelUpload(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header: start,end,label (seconds) or frame,label, and "
                                           "optionally face_id; at most 5 MB")


# --- participants as the unit (study_inference.py) -------------------------------------------------------

class GroupMean(serializers.Serializer):
    measure = serializers.CharField(help_text="an emotion (its mean probability), valence, or share_<emotion> (the "
                                              "share of face-frames with that dominant label)")
    condition = serializers.CharField(allow_null=True, help_text="null: analyses with no condition")
    group = serializers.CharField(allow_null=True, help_text="the split variable's value; null without split")
    n = serializers.IntegerField(help_text="participants")
    mean = serializers.FloatField(allow_null=True, help_text="mean of the participants' values")
    sd = serializers.FloatField(allow_null=True, help_text="standard deviation (n - 1); null when n < 2")
    ci_low = serializers.FloatField(allow_null=True, help_text="95% interval, t with n - 1 df; null when n < 2")
    ci_high = serializers.FloatField(allow_null=True)


class Comparison(serializers.Serializer):
    measure = serializers.CharField()
    by = serializers.CharField(help_text='"condition", or the split variable\'s name (groups compared)')
    condition = serializers.CharField(allow_null=True, help_text="for groups: the condition they are compared in")
    compared = serializers.ListField(child=serializers.CharField(allow_null=True),
                                     help_text="the two conditions or groups; differences are first minus second")
    test = serializers.ChoiceField(choices=["paired t", "Welch t"], help_text="paired t when any participant saw "
                                   "both conditions (on those who did), Welch t otherwise and between groups")
    statistic = serializers.FloatField(allow_null=True, help_text="t; null when not tested (see reason)")
    df = serializers.FloatField(allow_null=True, help_text="degrees of freedom (Welch-Satterthwaite for Welch t)")
    p = serializers.FloatField(allow_null=True, help_text="two-sided, not corrected for multiple tests")
    effect = serializers.CharField(allow_null=True, help_text="d_z (paired) or Cohen's d with the pooled sd")
    effect_size = serializers.FloatField(allow_null=True)
    effect_ci_low = serializers.FloatField(allow_null=True, help_text="95% interval by the noncentral t")
    effect_ci_high = serializers.FloatField(allow_null=True)
    n = serializers.ListField(child=serializers.IntegerField(), help_text="[pairs] or [n first, n second]")
    reason = serializers.CharField(allow_null=True, help_text="why there is no test, when there is none")
    label = serializers.CharField(help_text="what was tested and what came out, in one line")


class LeftOut(serializers.Serializer):
    without_baseline = serializers.ListField(child=serializers.CharField(), help_text="with baseline=1")
    filtered_out = serializers.IntegerField(help_text="participants the filters left out")
    without_split_value = serializers.ListField(child=serializers.CharField())


class StudyInference(serializers.Serializer):
    study = serializers.IntegerField()
    unit = serializers.CharField(help_text='always "participant": one value per participant and condition')
    confidence = serializers.FloatField()
    baseline_corrected = serializers.BooleanField()
    measures = serializers.ListField(child=serializers.CharField())
    split = serializers.CharField(allow_null=True)
    filters = serializers.ListField(child=serializers.CharField())
    participants = serializers.IntegerField(help_text="participants with a value in this selection")
    left_out = LeftOut()
    means = GroupMean(many=True)
    tests = Comparison(many=True)
