from rest_framework import serializers

from fersite.badtext import bad_character

from .exports import media_facts
from .models import Analysis
from .services import MAX_FRAME_STEP


class AnalysisSerializer(serializers.ModelSerializer):
    media = serializers.SerializerMethodField()
    elapsed = serializers.FloatField(read_only=True, allow_null=True, help_text="seconds spent analysing")
    url = serializers.SerializerMethodField()
    results_csv = serializers.SerializerMethodField()
    results_json = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = ["id", "title", "notes", "kind", "status", "progress", "error", "notice", "media", "model_version",
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
    """No NUL, other control character or unpaired surrogate (fersite/badtext.py): PostgreSQL cannot
    store the first, nothing can store the last."""
    what = bad_character(value)
    if what:
        raise serializers.ValidationError(f"This field contains {what}; remove it and send again.")
    return value


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="an image (JPEG, PNG, WebP) or a video "
                                                                   "(MP4, MOV, AVI, WebM, MKV)")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, validators=[clean_text])
    notes = serializers.CharField(required=False, allow_blank=True, validators=[clean_text])
    frame_step = serializers.IntegerField(min_value=1, max_value=MAX_FRAME_STEP, required=False)
