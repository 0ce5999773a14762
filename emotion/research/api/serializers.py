from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from emotion.access import study_role
from emotion.web.badtext import bad_character

from ..analyses.services import MAX_FRAME_STEP, MAX_TAG_LENGTH, MAX_TAGS
from ..exports.analysis import media_facts
from ..models import CODE_LENGTH, CONDITION_LENGTH, TITLE_LENGTH, Analysis, Study, StudyMember


class AnalysisSerializer(serializers.ModelSerializer):
    media = serializers.SerializerMethodField()
    elapsed = serializers.FloatField(read_only=True, allow_null=True, help_text="seconds spent analysing")
    url = serializers.SerializerMethodField()
    results_csv = serializers.SerializerMethodField()
    results_json = serializers.SerializerMethodField()
    participant = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="its code")
    condition = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Analysis
        fields = ["id", "title", "notes", "study", "participant", "condition", "tags", "is_baseline", "kind", "status", "progress", "error", "notice", "media", "model_version",
                  "result_count", "face_count", "summary", "created_at", "started_at", "finished_at", "elapsed",
                  "url", "results_csv", "results_json"]
        read_only_fields = fields

    def get_media(self, obj) -> dict:
        return media_facts(obj)

    def _abs(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, obj) -> str:
        return self._abs(obj.get_absolute_url())

    def get_results_csv(self, obj) -> str:
        return self._abs(f"/api/analyses/{obj.pk}/results.csv")

    def get_results_json(self, obj) -> str:
        return self._abs(f"/api/analyses/{obj.pk}/results.json")


def clean_text(value: str) -> str:
    """No NUL, other control character or unpaired surrogate (emotion/web/badtext.py): PostgreSQL cannot
    store the first, nothing can store the last."""
    what = bad_character(value)
    if what:
        raise serializers.ValidationError(f"This field contains {what}; remove it and send again.")
    return value


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="an image (JPEG, PNG, WebP) or a video "
                                                                   "(MP4, MOV, AVI, WebM, MKV)")
    title = serializers.CharField(max_length=TITLE_LENGTH, required=False, allow_blank=True, validators=[clean_text])
    notes = serializers.CharField(required=False, allow_blank=True, validators=[clean_text])
    frame_step = serializers.IntegerField(min_value=1, max_value=MAX_FRAME_STEP, required=False)


class UploadIntoStudySerializer(UploadSerializer):
    study = serializers.IntegerField(required=False, allow_null=True, help_text="the id of a study you may upload "
                                                                                  "into (owner or editor)")
    participant = serializers.CharField(max_length=CODE_LENGTH, required=False, allow_blank=True, validators=[clean_text],
                                        help_text="the participant's code in the study; created when new")
    condition = serializers.CharField(max_length=CONDITION_LENGTH, required=False, allow_blank=True, validators=[clean_text],
                                      help_text="the condition's name in the study; created when new")


class AnalysisEditSerializer(serializers.Serializer):
    """PATCH /api/analyses/<id>/: any of these. participant and condition by code and name (created when
    new; empty for none); is_baseline unmarks the participant's other baseline."""

    title = serializers.CharField(max_length=TITLE_LENGTH, required=False, allow_blank=True, validators=[clean_text])
    notes = serializers.CharField(required=False, allow_blank=True, validators=[clean_text])
    participant = serializers.CharField(max_length=CODE_LENGTH, required=False, allow_blank=True, allow_null=True,
                                        validators=[clean_text])
    condition = serializers.CharField(max_length=CONDITION_LENGTH, required=False, allow_blank=True, allow_null=True,
                                      validators=[clean_text])
    tags = serializers.ListField(child=serializers.CharField(max_length=MAX_TAG_LENGTH, validators=[clean_text]),
                                 max_length=MAX_TAGS, required=False)
    is_baseline = serializers.BooleanField(required=False)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", max_length=150)
    role = serializers.ChoiceField(choices=StudyMember.Role.choices)

    class Meta:
        model = StudyMember
        fields = ["username", "role"]


class StudySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    name = serializers.CharField(max_length=TITLE_LENGTH, validators=[clean_text])
    description = serializers.CharField(required=False, allow_blank=True, validators=[clean_text])
    role = serializers.SerializerMethodField(help_text="yours: owner, editor or viewer")
    members = serializers.SerializerMethodField(help_text="its members; invitations not yet accepted are not listed")
    participants = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    conditions = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    analyses = serializers.SerializerMethodField(help_text="the URL listing its analyses")
    url = serializers.SerializerMethodField(help_text="its page on the site")

    class Meta:
        model = Study
        fields = ["id", "name", "description", "owner", "role", "created_at", "members", "participants", "conditions",
                  "analyses", "url"]
        read_only_fields = ["id", "owner", "created_at"]

    def _abs(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_role(self, obj) -> str:
        request = self.context.get("request")
        return study_role(request.user, obj) if request else None

    @extend_schema_field(MemberSerializer(many=True))
    def get_members(self, obj) -> list:
        # filtered here, not in the query: the API's prefetched memberships are read as they are
        return MemberSerializer([m for m in obj.memberships.all() if m.accepted], many=True).data

    def get_analyses(self, obj) -> str:
        return self._abs(f"/api/analyses/?study={obj.pk}")

    def get_url(self, obj) -> str:
        return self._abs(reverse("research:study", args=[obj.pk]))
