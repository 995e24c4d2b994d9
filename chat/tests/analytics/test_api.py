"""GET /api/chat/analytics/: managers only, the seed's summary plus the daily rows, bad dates 400."""

from datetime import date, timedelta

import pytest
from django.test import Client

from chat.analytics.daily import compute_daily_metrics
from chat.analytics.days import yesterday
from chat.models import ChatAnalytics, ChatSession

from .factories import agent_says, customer_says, local, make_session

pytestmark = pytest.mark.django_db

URL = "/api/chat/analytics/"


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def two_days(agent):
    """May 10: two chats (ratings 5 and 2); May 11: one chat (rating 4). Plus one open chat now."""
    may10, may11 = date(2024, 5, 10), date(2024, 5, 11)
    s1 = make_session(
        local(may10, 9),
        agent=agent,
        first_response_at=local(may10, 9, 1),
        ended_at=local(may10, 9, 9),
        rating=5,
        issue="rastreamento",
    )
    customer_says(s1, local(may10, 9, 0, 20))
    agent_says(s1, agent, local(may10, 9, 1), response_seconds=40)
    s2 = make_session(
        local(may10, 10),
        agent=agent,
        first_response_at=local(may10, 10, 3),
        ended_at=local(may10, 11),
        rating=2,
        issue="cobranca",
    )
    customer_says(s2, local(may10, 10, 0, 30))
    agent_says(s2, agent, local(may10, 10, 3), response_seconds=150)
    s3 = make_session(
        local(may11, 15),
        agent=agent,
        first_response_at=local(may11, 15, 2),
        ended_at=local(may11, 16),
        rating=4,
        issue="rastreamento",
    )
    customer_says(s3, local(may11, 15, 0, 10))
    customer_says(s3, local(may11, 15, 1))
    agent_says(s3, agent, local(may11, 15, 2), response_seconds=110)
    compute_daily_metrics(may10)
    compute_daily_metrics(may11)
    make_session(
        local(yesterday(), 12), agent=agent, first_response_at=local(yesterday(), 12, 1)
    )  # active now


def test_visitors_and_agents_are_refused(agent_client):
    anonymous = Client().get(URL)
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"
    refused = agent_client.get(URL)
    assert refused.status_code == 403 and "error" in refused.json()


def test_summary_and_daily_rows(manager_client, two_days):
    response = manager_client.get(URL, {"from": "2024-05-10", "to": "2024-05-12"})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == ("2024-05-10", "2024-05-12")
    summary = body["summary"]
    assert summary["days"] == 2  # May 12 was never computed
    assert summary["total_sessions"] == 2 + 1
    assert summary["total_messages"] == (2 + 2) + 3  # customer and agent messages of both days
    assert summary["active_sessions"] == 1
    assert summary["ratings_count"] == 3
    assert summary["avg_satisfaction"] == pytest.approx((5 + 2 + 4) / 3, abs=1e-3)
    assert summary["common_issues"] == [
        {"issue": "rastreamento", "count": 2},
        {"issue": "cobranca", "count": 1},
    ]
    assert summary["frt_avg"] == pytest.approx((60 + 180 + 120) / 3)
    assert summary["avg_response_time"] == pytest.approx((40 + 150 + 110) / 3)
    assert summary["sla_share"] == pytest.approx(2 / 3, abs=1e-3)  # 60 s and 120 s are within 120 s

    assert [day["date"] for day in body["daily"]] == ["2024-05-10", "2024-05-11"]
    may10 = body["daily"][0]
    assert may10["total_sessions"] == 2
    assert may10["frt_median"] == pytest.approx((60 + 180) / 2)
    assert may10["csat_share"] == pytest.approx(1 / 2)
    assert may10["per_agent"][0]["chats"] == 2


def test_default_range_is_the_30_days_ending_yesterday(manager_client):
    ChatAnalytics.objects.create(date=yesterday(), total_sessions=7)
    ChatAnalytics.objects.create(date=yesterday() - timedelta(days=30), total_sessions=100)  # one day too old

    body = manager_client.get(URL).json()

    assert body["to"] == yesterday().isoformat()
    assert body["from"] == (yesterday() - timedelta(days=29)).isoformat()
    assert body["summary"]["total_sessions"] == 7


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "10/05/2024"}, "from"),
        ({"to": "2024-02-30"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"to": ""}, "to"),
    ],
)
def test_bad_dates_are_a_400_naming_the_field(manager_client, params, field):
    response = manager_client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"]


def test_a_long_range_is_cut_to_its_last_366_days_and_a_reversed_one_has_no_days(manager_client):
    long = manager_client.get(URL, {"from": "2020-01-01", "to": "2024-01-01"}).json()
    assert (long["from"], long["to"]) == ("2023-01-01", "2024-01-01")
    reversed_range = manager_client.get(URL, {"from": "2024-05-12", "to": "2024-05-10"}).json()
    assert (reversed_range["from"], reversed_range["to"]) == ("2024-05-12", "2024-05-10")
    assert reversed_range["daily"] == [] and reversed_range["summary"]["total_sessions"] == 0
    first_days = manager_client.get(URL, {"to": "0001-01-05"})
    assert first_days.status_code == 200 and first_days.json()["from"] == "0001-01-01"


def test_documented_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/chat/analytics/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"from", "to"}
    assert {"200", "400", "403"} <= set(operation["responses"])
    assert ChatSession.objects.count() == 0
