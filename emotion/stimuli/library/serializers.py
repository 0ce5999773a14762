from django.urls import reverse
from rest_framework import serializers

from emotion.research.api.serializers import clean_text
from emotion.research.models import TITLE_LENGTH

from ..models import MARKER_NAME_LENGTH, EventMarker, Stimulus


class MarkerSerializer(serializers.ModelSerializer):
    """One event marker; its span is checked against the stimulus by markers.checked, the one rule."""

    name = serializers.CharField(max_length=MARKER_NAME_LENGTH, help_text="what happens then")
    start = serializers.FloatField(help_text="seconds of stimulus time, 0 or more")
    end = serializers.FloatField(help_text="seconds, at least start and at most the stimulus' duration")

    class Meta:
        model = EventMarker
        fields = ["id", "name", "start", "end"]
        read_only_fields = ["id"]


class StimulusSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    markers = MarkerSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField(help_text="the stimulus' page")
    media = serializers.SerializerMethodField(help_text="its file, through the API (answers byte ranges)")
    markers_csv = serializers.SerializerMethodField()

    class Meta:
        model = Stimulus
        fields = ["id", "study", "title", "kind", "media_format", "original_name", "size_bytes", "width", "height",
                  "duration", "consent_text", "created_by", "created_at", "markers", "url", "media", "markers_csv"]
        read_only_fields = fields

    def _abs(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, obj) -> str:
        return self._abs(reverse("stimulus-page", args=[obj.pk]))

    def get_media(self, obj) -> str:
        return self._abs(reverse("api-stimulus-media", args=[obj.pk]))

    def get_markers_csv(self, obj) -> str:
        return self._abs(reverse("api-stimulus-markers-csv", args=[obj.pk]))


class StimulusUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="an image (JPEG, PNG, WebP) or a video "
                                                                   "(MP4, MOV, AVI, WebM, MKV)")
    title = serializers.CharField(max_length=TITLE_LENGTH, required=False, allow_blank=True, validators=[clean_text],
                                  help_text="the file's name when empty")
    consent_text = serializers.CharField(required=False, allow_blank=True, validators=[clean_text],
                                         help_text="shown to each participant before the camera starts")
    duration = serializers.FloatField(required=False, allow_null=True,
                                      help_text="an image's display time in seconds (default 10); a video's is "
                                                "read from the file")


class StimulusEditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_LENGTH, required=False, validators=[clean_text])
    consent_text = serializers.CharField(required=False, allow_blank=True, validators=[clean_text])
    duration = serializers.FloatField(required=False, help_text="an image's display time; no marker may end after it")
