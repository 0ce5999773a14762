"""The API of a stimulus' invitation links and recordings (links.py, recordings.py).

Access as for the study (emotion/access.py): a stimulus the user may not see is a 404; members read;
making and revoking links, attaching and deleting recordings take the editor role (a viewer gets 403).
A link's key is in the answer that makes it, and nowhere else, ever.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from emotion.research.api.analyses import CSVPassthrough, refused
from emotion.web.refusals import Refused

from ..access import stimulus_may_change, visible_stimulus
from ..models import StimulusLink
from . import links, recording_exports, recordings

NOT_FOUND = OpenApiResponse(description="no such stimulus (or link, or recording), or not one you may see")
VIEW_ONLY = OpenApiResponse(description="you may view this study but not change it (that takes the editor role)")


class LinkRequest(serializers.Serializer):
    participants = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, help_text=(
        "participant codes, one link each (new codes become participants); leave out for one open link that "
        "asks each participant for their code"))
    condition = serializers.CharField(required=False, allow_blank=True, help_text="created when new")
    days = serializers.IntegerField(required=False, help_text=f"days until it expires ({links.DEFAULT_DAYS})")
    max_uses = serializers.IntegerField(required=False, help_text=(
        f"sessions it may start (1 per code, {links.OPEN_DEFAULT_USES} for an open link)"))


class AttachRequest(serializers.Serializer):
    analysis = serializers.IntegerField(help_text="a video analysis of the study, with a participant")
    offset = serializers.FloatField(help_text="seconds into the video at which the stimulus starts")


def link_dict(link: StimulusLink) -> dict:
    return {"id": link.pk, "participant": link.participant.code if link.participant else None,
            "open": link.participant_id is None, "condition": link.condition.name if link.condition else None,
            "state": links.state(link), "uses": link.uses, "max_uses": link.max_uses,
            "expires_at": link.expires_at, "created_at": link.created_at}


class _StimulusView(APIView):
    parser_classes = [JSONParser, FormParser]

    def stimulus(self, request, pk, change: bool = False):
        stimulus = visible_stimulus(request.user, pk)
        if change and not stimulus_may_change(request.user, stimulus):
            raise PermissionDenied("You may view this study but not change it; that takes the editor role.")
        return stimulus


class StimulusLinks(_StimulusView):
    @extend_schema(operation_id="stimuli_links_list", responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND},
                   description="The stimulus' invitation links, newest first, without their keys.")
    def get(self, request, pk):
        stimulus = self.stimulus(request, pk)
        qs = stimulus.links.select_related("participant", "condition")
        return Response([link_dict(link) for link in qs])

    @extend_schema(request=LinkRequest, responses={201: OpenApiTypes.OBJECT, 400: OpenApiResponse(
        description="a bad code, condition, days or max_uses"), 403: VIEW_ONLY, 404: NOT_FOUND},
        description="Makes one link per participant code, or one open link. The answer holds each link's `url`: "
                    "only its hash is stored, so this is the one time it is ever given.")
    def post(self, request, pk):
        stimulus = self.stimulus(request, pk, change=True)
        body = LinkRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            made = links.create(stimulus, request.user, data.get("participants"), data.get("condition", ""),
                                data.get("days"), data.get("max_uses"))
        except Refused as exc:
            raise refused(exc)
        return Response({"links": [{**link_dict(m.link), "url": request.build_absolute_uri(m.path)} for m in made]},
                        status=status.HTTP_201_CREATED)


class LinkRevoke(_StimulusView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 403: VIEW_ONLY, 404: NOT_FOUND},
                   description="Ends the link now: it starts no more sessions; its row, uses and recordings stay.")
    def post(self, request, pk, link_id):
        stimulus = self.stimulus(request, pk, change=True)
        link = stimulus.links.filter(pk=link_id).select_related("participant", "condition").first()
        if link is None:
            return Response({"detail": "No such link."}, status=status.HTTP_404_NOT_FOUND)
        links.revoke(link)
        return Response(link_dict(link))


class StimulusRecordings(_StimulusView):
    @extend_schema(operation_id="stimuli_recordings_list", responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND},
                   description="The stimulus' recordings: remote sessions and attached uploads, with their gaps "
                               '([{"start", "end", "reason"}], stimulus seconds; reason pause, seek, hidden or '
                               "connection) and counts.")
    def get(self, request, pk):
        return Response([recordings.summary(r) for r in recordings.listed(self.stimulus(request, pk))])

    @extend_schema(request=AttachRequest, responses={201: OpenApiTypes.OBJECT, 400: OpenApiResponse(
        description="not a video analysis of this study with a participant, attached already, or a bad offset"),
        403: VIEW_ONLY, 404: NOT_FOUND}, description=(
        "Attaches an uploaded analysis of the study (a lab recording) to the stimulus: stimulus time is the "
        "video's time minus `offset`. Participant and condition are the analysis'."))
    def post(self, request, pk):
        stimulus = self.stimulus(request, pk, change=True)
        body = AttachRequest(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            rec = recordings.attach(stimulus, body.validated_data["analysis"], body.validated_data["offset"])
        except Refused as exc:
            raise refused(exc)
        return Response(recordings.summary(rec, 0), status=status.HTTP_201_CREATED)


class StimulusRecording(_StimulusView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND}, description="One recording.")
    def get(self, request, pk, rec_id):
        return Response(recordings.summary(recordings.get(self.stimulus(request, pk), rec_id)))

    @extend_schema(responses={204: None, 403: VIEW_ONLY, 404: NOT_FOUND}, description=(
        "Deletes a recording with its frames (a participant who withdraws after their session); an attached "
        "upload is only detached, its analysis stays."))
    def delete(self, request, pk, rec_id):
        recordings.get(self.stimulus(request, pk, change=True), rec_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordingFrames(_StimulusView):
    renderer_classes = [CSVPassthrough]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/json"): OpenApiTypes.OBJECT,
                              404: NOT_FOUND}, description=(
        "The recording's frames on the stimulus' time axis, one row per analysed frame of the followed face: "
        f"columns {', '.join(recording_exports.COLUMNS)}. frames.json adds the recording's summary."))
    def get(self, request, pk, rec_id, fmt):
        rec = recordings.get(self.stimulus(request, pk), rec_id)
        if fmt == "csv":
            return recording_exports.csv_response(request, rec)
        return recording_exports.json_response(rec, {**recordings.summary(rec), "exported_at": timezone.now()})
