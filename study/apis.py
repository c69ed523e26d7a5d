"""The study's REST API: the trial page's endpoints and the researchers' ones.

One view per operation, each with nested ``InputSerializer``/``OutputSerializer``; views parse,
call one service or selector, and answer. Participant endpoints answer 404 for anything that is
not the caller's own consented session (see :mod:`study.permissions`); researcher endpoints
need a staff account (403 otherwise). A broken study rule answers 400 with ``{"detail": …}``
saying what is wrong.
"""

from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from study import exports, selectors, services
from study.dimensions import DIMENSION_NAMES
from study.models import Participant
from study.permissions import ParticipantSessionAuthentication, participant_trial_for_request

MAX_SUBMIT_BYTES = 32 * 1024
MAX_EVENTS_BYTES = 256 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


class StudyRuleBroken(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


def _limit_body(request, limit):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise PayloadTooLarge(f"Request body is {length} bytes; this endpoint accepts at most {limit}.")


def _flatten(errors, prefix=""):
    if isinstance(errors, dict):
        return [line for key, value in errors.items() for line in _flatten(value, f"{prefix}{key}: ")]
    if isinstance(errors, list):
        return [line for value in errors for line in _flatten(value, prefix)]
    return [f"{prefix}{errors}"]


def _validated(serializer_class, data):
    if not isinstance(data, dict):
        raise ParseError("The request body must be a JSON object.")
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise StudyRuleBroken("; ".join(_flatten(serializer.errors)))
    return serializer.validated_data


def _rule_broken(error):
    return StudyRuleBroken("; ".join(error.messages))


# ---------------------------------------------------------------- participant endpoints


class ParticipantSessionScheme(OpenApiAuthenticationExtension):
    """Documents the participant endpoints' authentication: the session cookie (code in the URL too)."""

    target_class = "study.permissions.ParticipantSessionAuthentication"
    name = "participantSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The participant's signed session; it must hold the code in the URL (else 404).",
        }


class ParticipantApi(APIView):
    """Base of the participant endpoints: JSON in and out, the participant's session, no throttle.

    Each request reads the session and then, in one query, the trial with its participant and
    study (:func:`study.permissions.participant_trial_for_request`).
    """

    authentication_classes = [ParticipantSessionAuthentication]
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    throttle_classes = []


class TrialStateApi(ParticipantApi):
    @extend_schema_serializer(component_name="TrialStateOutput")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="TrialStateStem")
        class Stem(serializers.Serializer):
            name = serializers.CharField()
            url = serializers.CharField()

        @extend_schema_serializer(component_name="TrialStatePlayerState")
        class PlayerState(serializers.Serializer):
            gains_db = serializers.DictField(child=serializers.FloatField())
            master_db = serializers.FloatField()

        @extend_schema_serializer(component_name="TrialStateSaved")
        class Saved(serializers.Serializer):
            ratings = serializers.DictField(child=serializers.IntegerField())
            feedback = serializers.CharField(allow_blank=True)

        trial = serializers.IntegerField()
        position = serializers.IntegerField()
        total = serializers.IntegerField()
        submitted = serializers.IntegerField()
        state = serializers.CharField()
        is_practice = serializers.BooleanField()
        instructed_response = serializers.IntegerField(allow_null=True)
        advice = serializers.CharField()
        anchor = serializers.CharField()
        genre = serializers.CharField(allow_blank=True)
        segment_seconds = serializers.FloatField()
        stems = Stem(many=True)
        states = serializers.DictField(child=PlayerState())
        dimensions = serializers.ListField(child=serializers.CharField())
        min_listening_seconds = serializers.IntegerField()
        free_text_required = serializers.BooleanField()
        listened_seconds = serializers.FloatField()
        saved = Saved(allow_null=True)

    @extend_schema(
        operation_id="trial_state",
        summary="Everything the trial page needs: advice, stems, loudness-matched state gains",
        responses={200: OutputSerializer, 404: DetailOutput},
    )
    def get(self, request, code, trial_id):
        trial = participant_trial_for_request(request, code, trial_id, with_progress=True)
        # trial_state_for returns JSON-ready data in the OutputSerializer's shape (see the schema).
        return Response(selectors.trial_state_for(trial))


class TrialSubmitApi(ParticipantApi):
    @extend_schema_serializer(component_name="TrialSubmitInput")
    class InputSerializer(serializers.Serializer):
        ratings = serializers.DictField(
            child=serializers.JSONField(), help_text=f"Each of {list(DIMENSION_NAMES)} -> score 1–5."
        )
        feedback = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=False)
        listened_seconds = serializers.FloatField(min_value=0)

    @extend_schema_serializer(component_name="TrialSubmitOutput")
    class OutputSerializer(serializers.Serializer):
        trial = serializers.IntegerField()
        state = serializers.CharField()
        next_trial = serializers.IntegerField(allow_null=True)

    @extend_schema(
        operation_id="trial_submit",
        summary="Save a trial's five ratings and feedback (idempotent)",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: DetailOutput, 404: DetailOutput, 413: DetailOutput},
    )
    def post(self, request, code, trial_id):
        _limit_body(request, MAX_SUBMIT_BYTES)
        trial = participant_trial_for_request(request, code, trial_id, with_item=False, with_next=True)
        data = _validated(self.InputSerializer, request.data)
        try:
            trial = services.trial_submit(trial=trial, **data)
        except services.StudyRuleError as error:
            raise _rule_broken(error) from None
        output = {"trial": trial.pk, "state": trial.state, "next_trial": trial.next_trial_id}
        return Response(self.OutputSerializer(output).data)


class TrialEventsApi(ParticipantApi):
    @extend_schema_serializer(component_name="TrialEventsInput")
    class InputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="TrialEventsEvent")
        class Event(serializers.Serializer):
            kind = serializers.CharField()
            state = serializers.CharField()
            audio_time = serializers.FloatField()
            client_time = serializers.FloatField()
            detail = serializers.DictField(required=False)

        events = Event(many=True, max_length=services.MAX_EVENTS_PER_BATCH)

    @extend_schema_serializer(component_name="TrialEventsOutput")
    class OutputSerializer(serializers.Serializer):
        stored = serializers.IntegerField()

    @extend_schema(
        operation_id="trial_events",
        summary="Store a batch of playback events of a trial",
        request=InputSerializer,
        responses={201: OutputSerializer, 400: DetailOutput, 404: DetailOutput, 413: DetailOutput},
    )
    def post(self, request, code, trial_id):
        _limit_body(request, MAX_EVENTS_BYTES)
        trial = participant_trial_for_request(request, code, trial_id, with_item=False)
        data = _validated(self.InputSerializer, request.data)
        try:
            stored = services.playback_events_record(trial=trial, events=data["events"])
        except services.StudyRuleError as error:
            raise _rule_broken(error) from None
        return Response(self.OutputSerializer({"stored": stored}).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- researcher endpoints


class ResearcherApi(APIView):
    permission_classes = [IsAdminUser]


INCLUDE_SIMULATED = OpenApiParameter(
    "include_simulated", OpenApiTypes.BOOL, description="Also export simulated (bot/pilot) participants."
)


def _include_simulated(request):
    return request.query_params.get("include_simulated", "").lower() in {"1", "true", "yes"}


class StudyStatusApi(ResearcherApi):
    @extend_schema_serializer(component_name="StudyStatusOutput")
    class OutputSerializer(serializers.Serializer):
        slug = serializers.CharField()
        title = serializers.CharField()
        status = serializers.CharField()
        participants_by_state = serializers.DictField(child=serializers.IntegerField())
        simulated = serializers.IntegerField()
        completion_rate = serializers.FloatField(allow_null=True)
        median_minutes = serializers.FloatField(allow_null=True)
        items = serializers.IntegerField()
        ratings_per_item_min = serializers.IntegerField()
        ratings_per_item_max = serializers.IntegerField()
        flagged_participants = serializers.IntegerField()

    @extend_schema(operation_id="study_status", responses={200: OutputSerializer, 403: DetailOutput})
    def get(self, request, slug):
        study = selectors.study_get_by_slug(slug)
        figures = selectors.study_dashboard(study)
        output = {
            "slug": study.slug,
            "title": study.title,
            "status": study.status,
            "participants_by_state": dict(
                zip(Participant.State.values, [n for _, n in figures["by_state"]], strict=True)
            ),
            "simulated": figures["simulated"],
            "completion_rate": figures["completion_rate"],
            "median_minutes": figures["median_minutes"],
            "items": len(figures["items"]),
            "ratings_per_item_min": figures["ratings_min"],
            "ratings_per_item_max": figures["ratings_max"],
            "flagged_participants": len(figures["flagged"]),
        }
        return Response(self.OutputSerializer(output).data)


def _download(text, content_type, filename):
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _ratings_download(request, slug, fmt):
    study = selectors.study_get_by_slug(slug)
    include = _include_simulated(request)
    services.audit_log_record(
        actor=request.user,
        action="export_ratings",
        target=study.slug,
        details={"format": fmt, "include_simulated": include},
    )
    if fmt == "json":
        text, content_type = exports.ratings_json_text(study, include_simulated=include), "application/json"
    else:
        text, content_type = exports.ratings_csv_text(study, include_simulated=include), "text/csv"
    return _download(text, content_type, f"{study.slug}-ratings.{fmt}")


class StudyRatingsCsvApi(ResearcherApi):
    @extend_schema(
        operation_id="study_ratings_csv",
        summary="Long-format ratings per the ratings contract, CSV",
        parameters=[INCLUDE_SIMULATED],
        responses={(200, "text/csv"): OpenApiTypes.STR, 403: OpenApiResponse(DetailOutput)},
    )
    def get(self, request, slug):
        return _ratings_download(request, slug, "csv")


class StudyRatingsJsonApi(ResearcherApi):
    @extend_schema(
        operation_id="study_ratings_json",
        summary="Long-format ratings per the ratings contract, JSON",
        parameters=[INCLUDE_SIMULATED],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, 403: OpenApiResponse(DetailOutput)},
    )
    def get(self, request, slug):
        return _ratings_download(request, slug, "json")


class StudyEventsApi(ResearcherApi):
    @extend_schema(
        operation_id="study_events",
        summary="Playback events as CSV",
        parameters=[INCLUDE_SIMULATED],
        responses={(200, "text/csv"): OpenApiTypes.STR, 403: OpenApiResponse(DetailOutput)},
    )
    def get(self, request, slug):
        study = selectors.study_get_by_slug(slug)
        include = _include_simulated(request)
        services.audit_log_record(
            actor=request.user,
            action="export_events",
            target=study.slug,
            details={"include_simulated": include},
        )
        return _download(
            exports.events_csv_text(study, include_simulated=include), "text/csv", f"{study.slug}-events.csv"
        )
