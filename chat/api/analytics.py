"""``GET /api/chat/analytics/``: the daily metrics for a range of days, and their summary.

Managers only (the policy's VIEW_METRICS). The fields come from the metric registry
(chat/analytics/registry.py): ``daily`` carries every stored metric of each day, ``summary``
every metric a period combines (chat.analytics.periods.summarize), plus the seed MVP's
``avg_satisfaction`` (the average rating) and ``active_sessions`` (live, counted now).
Numbers are raw: durations in seconds, shares as fractions from 0 to 1.
"""

from datetime import date, timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import policy
from chat.analytics import current, periods, registry
from chat.analytics.days import yesterday
from chat.analytics.units import COUNT, ISSUES
from chat.models import ChatAnalytics
from jtchat.api_query import DeclaredQuery

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
        fields = ["date", *(metric.key for metric in registry.stored()), "per_agent", "computed_at"]
        read_only_fields = fields


def _summary_field(metric: registry.Metric) -> serializers.Field:
    if metric.unit is ISSUES:
        return IssueCountSerializer(many=True)
    if metric.unit is COUNT:
        return serializers.IntegerField(help_text=metric.unit.api_help)
    return serializers.FloatField(allow_null=True, help_text=metric.unit.api_help)


AnalyticsSummarySerializer = type(
    "AnalyticsSummarySerializer",
    (serializers.Serializer,),
    {
        "__doc__": "A range's figures, combined from its stored days as the metric registry says.",
        "days": serializers.IntegerField(help_text="Days of the range that have computed figures."),
        "active_sessions": serializers.IntegerField(help_text="Chats with an agent right now."),
        "avg_satisfaction": serializers.FloatField(
            allow_null=True, help_text="Average rating, 1 to 5 (the same as `satisfaction_avg`)."
        ),
        **{metric.key: _summary_field(metric) for metric in registry.combined()},
    },
)


class QueryDateField(serializers.DateField):
    """A day in the query string: given means it must be a day (``?to=`` is not one). DRF
    reads an empty query value of an optional field as absent."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)


class _RangeFieldsMixin:
    """``from`` is a Python keyword, so the range fields are added here rather than declared."""

    range_required = False

    def get_fields(self):
        fields = super().get_fields()
        options = {"required": self.range_required, "input_formats": ["%Y-%m-%d"]}
        fields["from"] = QueryDateField(help_text="First day (YYYY-MM-DD).", **options)
        fields["to"] = QueryDateField(help_text="Last day (YYYY-MM-DD).", **options)
        return fields


def days_before(day: date, count: int) -> date:
    """``count`` days before ``day``, or the first day there is."""
    return day - timedelta(days=count) if (day - date.min).days >= count else date.min


class AnalyticsQuerySerializer(_RangeFieldsMixin, serializers.Serializer):
    """The range asked for: a longer one than MAX_DAYS is cut to its last MAX_DAYS days, and
    ``from`` after ``to`` is a range without days; the answer says the range it covers."""

    def validate(self, data):
        last = data.get("to") or yesterday()
        first = data.get("from") or days_before(last, DEFAULT_DAYS - 1)
        if first <= last and (last - first).days + 1 > MAX_DAYS:
            first = days_before(last, MAX_DAYS - 1)
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


class AnalyticsView(DeclaredQuery, APIView):
    permission_classes = [requires(policy.VIEW_METRICS)]
    query_parameters = {"from", "to"}

    @extend_schema(
        operation_id="chat_analytics",
        summary="Daily metrics and their summary for a range of days",
        description=(
            "Managers only (`chat.view_metrics`). Days are local days in the server's TIME_ZONE; "
            f"at most {MAX_DAYS} days per call: a longer range is cut to its last {MAX_DAYS} days, and "
            "`from` after `to` is a range without days (the answer's `from` and `to` say the range "
            "it covers). `daily` holds the stored rows of the days that have been computed "
            "(`manage.py compute_daily_metrics`); `summary` combines them and adds the number of "
            "chats active right now."
        ),
        parameters=RANGE_PARAMETERS,
        responses={
            200: AnalyticsSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="A day that is not YYYY-MM-DD",
                examples=[
                    OpenApiExample(
                        "Não é uma data",
                        value={
                            "error": "Alguns campos são inválidos.",
                            "code": "invalid",
                            "fields": {
                                "to": [
                                    "Formato inválido para data. Use um dos formatos a seguir: YYYY-MM-DD."
                                ]
                            },
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
        rows = list(periods.daily_rows(first, last))
        combined = periods.summarize(rows)
        summary = {
            **combined,
            "active_sessions": current.active_sessions_count(),
            "avg_satisfaction": combined["satisfaction_avg"],
        }
        body = {"from": first, "to": last, "summary": summary, "daily": rows}
        return Response(AnalyticsSerializer(body).data)
