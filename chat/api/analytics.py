"""``GET /api/chat/analytics/``: the daily metrics for a range of days, and their summary.

Managers only (``chat.view_metrics``). The summary is the seed MVP's (totals, active
sessions, average satisfaction, ratings, common issues), combined exactly from the stored
daily rows (see chat.metrics.summarize); ``active_sessions`` is live, counted now.
"""

from datetime import timedelta

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import metrics, policy
from chat.models import ChatAnalytics

from .permissions import requires
from .serializers import ErrorSerializer

MAX_DAYS = 366
DEFAULT_DAYS = 30


class IssueCountSerializer(serializers.Serializer):
    issue = serializers.CharField(help_text="Issue category code, e.g. `rastreamento`.")
    count = serializers.IntegerField()


class AgentFiguresSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField()
    agent_name = serializers.CharField()
    chats = serializers.IntegerField(help_text="Chats started that day and assigned to the agent at the end.")
    answered = serializers.IntegerField()
    frt_avg = serializers.FloatField(allow_null=True, help_text="Seconds.")
    replies = serializers.IntegerField()
    timed_replies = serializers.IntegerField()
    avg_response_time = serializers.FloatField(allow_null=True, help_text="Seconds.")
    ratings = serializers.IntegerField()
    satisfaction_avg = serializers.FloatField(allow_null=True)


class AnalyticsDaySerializer(serializers.ModelSerializer):
    """One stored day. Durations are seconds; shares are fractions from 0 to 1."""

    common_issues = IssueCountSerializer(many=True)
    per_agent = AgentFiguresSerializer(many=True)

    class Meta:
        model = ChatAnalytics
        fields = metrics.DAILY_FIELDS
        read_only_fields = fields


class AnalyticsSummarySerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="Days of the range that have computed figures.")
    total_sessions = serializers.IntegerField()
    total_messages = serializers.IntegerField()
    active_sessions = serializers.IntegerField(help_text="Chats with an agent right now.")
    avg_satisfaction = serializers.FloatField(allow_null=True, help_text="Average rating, 1 to 5.")
    ratings_count = serializers.IntegerField()
    common_issues = IssueCountSerializer(many=True)
    answered_sessions = serializers.IntegerField()
    abandoned_sessions = serializers.IntegerField()
    frt_avg = serializers.FloatField(allow_null=True, help_text="First response time, average, seconds.")
    avg_response_time = serializers.FloatField(allow_null=True, help_text="Seconds.")
    avg_session_duration = serializers.FloatField(allow_null=True, help_text="Seconds.")
    csat_share = serializers.FloatField(allow_null=True, help_text="Share of ratings 4–5 (0 to 1).")
    sla_share = serializers.FloatField(
        allow_null=True, help_text="Share of answered chats with a first response within the SLA (0 to 1)."
    )


class _RangeFieldsMixin:
    """``from`` is a Python keyword, so the range fields are added here rather than declared."""

    range_required = False

    def get_fields(self):
        fields = super().get_fields()
        options = {"required": self.range_required, "input_formats": ["%Y-%m-%d"]}
        fields["from"] = serializers.DateField(help_text="First day (YYYY-MM-DD).", **options)
        fields["to"] = serializers.DateField(help_text="Last day (YYYY-MM-DD).", **options)
        return fields


class AnalyticsQuerySerializer(_RangeFieldsMixin, serializers.Serializer):
    def validate(self, data):
        last = data.get("to") or metrics.yesterday()
        first = data.get("from") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise serializers.ValidationError({"from": [_("The first day is after the last day.")]})
        if (last - first).days + 1 > MAX_DAYS:
            raise serializers.ValidationError(
                {"to": [_("Ask for at most %(days)d days at a time.") % {"days": MAX_DAYS}]}
            )
        return {"from": first, "to": last}


class AnalyticsSerializer(_RangeFieldsMixin, serializers.Serializer):
    range_required = True
    summary = AnalyticsSummarySerializer()
    daily = AnalyticsDaySerializer(many=True)


RANGE_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        OpenApiParameter.QUERY,
        description=f"First local day (YYYY-MM-DD). Default: {DEFAULT_DAYS - 1} days before `to`.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        OpenApiParameter.QUERY,
        description="Last local day (YYYY-MM-DD). Default: yesterday.",
    ),
]


class AnalyticsView(APIView):
    permission_classes = [requires(policy.VIEW_METRICS)]

    @extend_schema(
        operation_id="chat_analytics",
        summary="Daily metrics and their summary for a range of days",
        description=(
            "Managers only (`chat.view_metrics`). Days are local days in the server's TIME_ZONE; "
            f"at most {MAX_DAYS} days per call. `daily` holds the stored rows of the days that have been "
            "computed (`manage.py compute_daily_metrics`); `summary` combines them and adds the number "
            "of chats active right now."
        ),
        parameters=RANGE_PARAMETERS,
        responses={
            200: AnalyticsSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="A date that is not YYYY-MM-DD, a reversed range or too many days",
                examples=[
                    OpenApiExample(
                        "Reversed range",
                        value={
                            "error": "Some fields are invalid.",
                            "code": "invalid",
                            "fields": {"from": ["The first day is after the last day."]},
                        },
                    )
                ],
            ),
            403: OpenApiResponse(ErrorSerializer, description="Not signed in, or not a manager"),
        },
        tags=["analytics"],
    )
    def get(self, request):
        query = AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, last = query.validated_data["from"], query.validated_data["to"]
        rows = list(metrics.daily_rows(first, last))
        combined = metrics.summarize(rows)
        summary = {
            "days": combined["days"],
            "total_sessions": combined["total_sessions"],
            "total_messages": combined["total_messages"],
            "active_sessions": metrics.active_sessions_count(),
            "avg_satisfaction": combined["satisfaction_avg"],
            "ratings_count": combined["ratings_count"],
            "common_issues": combined["common_issues"],
            "answered_sessions": combined["answered_sessions"],
            "abandoned_sessions": combined["abandoned_sessions"],
            "frt_avg": combined["frt_avg"],
            "avg_response_time": combined["avg_response_time"],
            "avg_session_duration": combined["avg_session_duration"],
            "csat_share": combined["csat_share"],
            "sla_share": combined["sla_share"],
        }
        body = {"from": first, "to": last, "summary": summary, "daily": rows}
        return Response(AnalyticsSerializer(body).data)
