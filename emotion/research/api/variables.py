"""The API of a study's participant variables (variables.py): defining them, each participant's values,
and the wide CSV both ways.

Access as for the study itself (emotion/access.py): a study the user may not see is a 404; its members
read; changing anything takes the "edit" right (editor or owner), a viewer gets a 403 saying so.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from emotion.access import study_may, visible_studies
from emotion.web.refusals import Refused

from ..exports.study import _name
from ..models import Variable
from ..studies import variables
from .analyses import CSVPassthrough, refused

NOT_FOUND = OpenApiResponse(description="no such study, or not one you may see")
VIEW_ONLY = OpenApiResponse(description="you may view this study but not change it (that takes the editor role)")


class VariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variable
        fields = ["name", "kind"]


class ValuesSerializer(serializers.Serializer):
    participant = serializers.CharField(help_text="the participant's code; created when new")
    values = serializers.DictField(child=serializers.JSONField(allow_null=True), help_text=(
        'variable name -> value: a number for a number variable, text for a category; null or "" removes it'))


class VariablesUpload(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, UTF-8, header participant,<variable>,...; at most 1 MB")


class VariablesImported(serializers.Serializer):
    participants = serializers.IntegerField(help_text="rows read")
    created = serializers.ListField(child=serializers.CharField(), help_text="participant codes new to the study")
    values_set = serializers.IntegerField()
    values_removed = serializers.IntegerField(help_text="empty cells, whose value was removed")


class _StudyView(APIView):
    def study(self, request, pk, change: bool = False):
        study = get_object_or_404(visible_studies(request.user), pk=pk)
        if change and not study_may(request.user, study, "edit"):
            raise PermissionDenied("You may view this study but not change its variables; that takes the editor "
                                   "role.")
        return study


class StudyVariables(_StudyView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses={200: VariableSerializer(many=True), 404: NOT_FOUND},
                   description="The study's participant variables, by name.")
    def get(self, request, pk):
        return Response(VariableSerializer(self.study(request, pk).variables.all(), many=True).data)

    @extend_schema(request=VariableSerializer, responses={
        201: VariableSerializer, 400: OpenApiResponse(description="a bad or taken name, or an unknown kind"),
        403: VIEW_ONLY, 404: NOT_FOUND},
        description="Defines a variable: `name` (a letter, then letters, digits or _; not participant, condition, "
                    "measure, value or frames) and `kind`, category or number (fixed once defined).")
    def post(self, request, pk):
        study = self.study(request, pk, change=True)
        try:
            variable = variables.define(study, request.data.get("name", ""), request.data.get("kind", ""))
        except Refused as exc:
            raise refused(exc)
        return Response(VariableSerializer(variable).data, status=status.HTTP_201_CREATED)


class StudyVariable(_StudyView):
    @extend_schema(responses={204: None, 403: VIEW_ONLY, 404: OpenApiResponse(description="no such study or variable")},
                   description="Deletes the variable with every participant's value of it.")
    def delete(self, request, pk, name):
        study = self.study(request, pk, change=True)
        get_object_or_404(study.variables, name=name).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ParticipantValues(_StudyView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND},
                   description='Every participant\'s values: {"P01": {"group": "control", "age": 34}, ...} '
                               "(participants with no value are left out).")
    def get(self, request, pk):
        study = self.study(request, pk)
        kinds = {v.name: v for v in study.variables.all()}
        return Response({code: {name: variables.typed(kinds[name], text) for name, text in mine.items()}
                         for code, mine in variables.values_by_participant(study).items()})

    @extend_schema(request=ValuesSerializer, responses={
        200: ValuesSerializer, 400: OpenApiResponse(description="an unknown variable or a value that does not fit "
                                                                "it; nothing was changed"),
        403: VIEW_ONLY, 404: NOT_FOUND},
        description="Sets (or removes) some of one participant's values; the others stay as they are.")
    def post(self, request, pk):
        study = self.study(request, pk, change=True)
        form = ValuesSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            participant = variables.set_values(study, form.validated_data["participant"], form.validated_data["values"])
        except Refused as exc:
            raise refused(exc)
        kinds = {v.name: v for v in study.variables.all()}
        mine = variables.values_by_participant(study).get(participant.code, {})
        return Response({"participant": participant.code,
                         "values": {n: variables.typed(kinds[n], t) for n, t in mine.items()}})


class VariablesCSV(_StudyView):
    parser_classes = [MultiPartParser, FormParser]

    def get_renderers(self):
        # the download is CSV; the import's answer (and its errors) JSON
        return [CSVPassthrough()] if getattr(self.request, "method", "GET") == "GET" else [JSONRenderer()]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
                   description="Every participant of the study, one row each: participant, then each variable "
                               "(empty where unknown). The same shape the import takes.")
    def get(self, request, pk):
        study = self.study(request, pk)
        response = HttpResponse(variables.export_csv(study), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_name(study, "variables", "csv")}"'
        return response

    @extend_schema(request={"multipart/form-data": VariablesUpload}, responses={
        200: VariablesImported, 400: OpenApiResponse(description="the file was refused, nothing stored; `file` lists "
                                                            "the problems by line"),
        403: VIEW_ONLY, 404: NOT_FOUND},
        description="Imports values from a wide CSV (participant, then variables already defined). Unknown "
                    "participants are created and listed in `created`; an empty cell removes that value; all "
                    "or nothing.")
    def post(self, request, pk):
        study = self.study(request, pk, change=True)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Choose a CSV file of participant variables."]})
        if upload.size > variables.MAX_BYTES:
            raise ValidationError({"file": [f"The file is larger than {variables.MAX_BYTES // 1024} KB."]})
        try:
            return Response(variables.import_csv(study, upload.read()))
        except variables.VariableFileError as exc:
            raise ValidationError({"file": exc.errors})
