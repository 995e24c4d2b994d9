"""CSV exports of the metrics: columns, values, Excel-friendly format, formula neutralisation."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from chat.analytics.daily import compute_daily_metrics
from chat.analytics.exports import neutralise

from .factories import agent_says, customer_says, local, make_session

pytestmark = pytest.mark.django_db

DAILY_URL = "/admin/chat/chatanalytics/export/daily.csv"
CONVERSATIONS_URL = "/admin/chat/chatanalytics/export/conversations.csv"
DAY = date(2024, 5, 10)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def read_csv(response) -> tuple[bytes, list[list[str]]]:
    assert isinstance(response, StreamingHttpResponse)
    raw = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    return raw, rows


@pytest.fixture
def day_of_chats(agent):
    answered = make_session(
        local(DAY, 9, 0),
        agent=agent,
        first_response_at=local(DAY, 9, 1, 30),
        ended_at=local(DAY, 9, 20),
        rating=4,
        comment="Ótimo, resolveu; obrigado",
        issue="rastreamento",
        customer_name="Conceição Araújo",
        topic="rastreamento",
    )
    customer_says(answered, local(DAY, 9, 0, 10))
    agent_says(answered, agent, local(DAY, 9, 1, 30), response_seconds=80)
    customer_says(answered, local(DAY, 9, 5))
    agent_says(answered, agent, local(DAY, 9, 7), response_seconds=120)
    agent_says(answered, agent, local(DAY, 9, 8), internal=True, response_seconds=999)  # a note: not a reply

    hostile = make_session(
        local(DAY, 10, 0),
        ended_at=local(DAY, 10, 5),
        customer_name='=HYPERLINK("http://evil")',
        comment="@SUM(A1)",
        issue="cobranca",
        opened_without_agents=True,
        opened_outside_hours=True,
    )
    customer_says(hostile, local(DAY, 10, 0, 30))
    return answered, hostile


def test_conversations_one_row_each_with_every_column(manager_client, day_of_chats):
    answered, hostile = day_of_chats

    response = manager_client.get(CONVERSATIONS_URL, {"from": "2024-05-10", "to": "2024-05-10"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="jtchat-conversas_2024-05-10_2024-05-10.csv"' in response["Content-Disposition"]
    raw, rows = read_csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows the accents right
    header, first, second = rows
    assert header == [
        "Conversa", "Início", "Fim", "Situação", "Encerrada por", "Atendente", "Nome do cliente", "Assunto",
        "Problema", "Primeira resposta (min:s)", "Tempo médio de resposta (min:s)",
        "Tempo de resposta, maior (min:s)", "Respostas do atendente", "Arquivos", "Duração (min:s)", "Nota",
        "Comentário", "Aberta sem atendente disponível", "Aberta fora do horário de atendimento",
    ]  # fmt: skip
    record = dict(zip(header, first, strict=True))
    assert record["Conversa"] == str(answered.pk)
    assert record["Início"] == "2024-05-10 09:00:00"  # local time
    assert record["Fim"] == "2024-05-10 09:20:00"
    assert record["Situação"] == "Encerrada"
    assert record["Encerrada por"] == "Cliente"  # the label, not the code "customer"
    assert record["Atendente"] == "Ana"
    assert record["Nome do cliente"] == "Conceição Araújo"
    assert record["Assunto"] == record["Problema"] == "Rastreamento"
    assert record["Primeira resposta (min:s)"] == "1:30"
    assert record["Tempo médio de resposta (min:s)"] == "1:40"  # (80 + 120) / 2; the note is left out
    assert record["Tempo de resposta, maior (min:s)"] == "2:00"
    assert record["Respostas do atendente"] == "2"
    assert record["Arquivos"] == "0"
    assert record["Duração (min:s)"] == "20:00"
    assert record["Nota"] == "4"
    assert record["Comentário"] == "Ótimo, resolveu; obrigado"  # the ; is quoted, not a new cell
    assert (
        record["Aberta sem atendente disponível"] == record["Aberta fora do horário de atendimento"] == "não"
    )

    other = dict(zip(header, second, strict=True))
    assert other["Atendente"] == "" and other["Primeira resposta (min:s)"] == "" and other["Nota"] == ""
    assert other["Problema"] == "Cobrança"
    assert other["Nome do cliente"] == '\'=HYPERLINK("http://evil")'
    assert other["Comentário"] == "'@SUM(A1)"
    assert other["Aberta sem atendente disponível"] == other["Aberta fora do horário de atendimento"] == "sim"


def test_daily_rows_with_decimal_commas(manager_client, day_of_chats):
    compute_daily_metrics(DAY)

    response = manager_client.get(DAILY_URL, {"from": "2024-05-09", "to": "2024-05-10"})

    raw, rows = read_csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    header, only = rows  # May 9 was never computed: no row
    record = dict(zip(header, only, strict=True))
    assert record["Data"] == "2024-05-10"
    assert record["Conversas"] == "2"
    assert record["Mensagens"] == str(2 + 2 + 1)
    assert record["Tempo da primeira resposta (TPR), média (min:s)"] == "1:30"
    assert record["Tempo médio de resposta (min:s)"] == "1:40"  # (80 + 120) / 2
    assert record["Satisfação média (1–5)"] == "4,00"
    assert record["Satisfação (CSAT, notas 4–5) (%)"] == "100,0"
    assert record["Dentro do SLA (%)"] == "100,0"
    assert record["Abandonadas"] == "1"
    assert record["Problemas frequentes"] == "Cobrança: 1 | Rastreamento: 1"


def test_decimal_comma_for_fractions(manager_client, agent):
    for minute, (frt, rating) in enumerate([(10, 5), (15, 4)]):  # FRT average 12.5 s
        start = local(DAY, 9, minute)
        make_session(start, agent=agent, first_response_at=local(DAY, 9, minute, frt), rating=rating)
    make_session(local(DAY, 10), ended_at=local(DAY, 10, 5), rating=2)  # ratings 5, 4, 2
    compute_daily_metrics(DAY)

    _, rows = read_csv(manager_client.get(DAILY_URL, {"from": "2024-05-10", "to": "2024-05-10"}))

    record = dict(zip(*rows, strict=True))
    assert record["Tempo da primeira resposta (TPR), média (min:s)"] == "0:13"  # 12.5 s, to the second
    assert record["Satisfação média (1–5)"] == "3,67"  # 11 / 3, always two decimals
    assert record["Satisfação (CSAT, notas 4–5) (%)"] == "66,7"  # 2 of 3, one decimal
    assert record["Dentro do SLA (%)"] == "100,0"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+5511999999999", "'+5511999999999"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Maria = feliz", "Maria = feliz"),
        ("", ""),
    ],
)
def test_formula_neutralisation(cell, expected):
    assert neutralise(cell) == expected


def test_the_queries_do_not_grow_with_the_rows(manager_client, agent):
    make_session(local(DAY, 8, 0), agent=agent, first_response_at=local(DAY, 8, 1))
    with CaptureQueriesContext(connection) as few:
        read_csv(manager_client.get(CONVERSATIONS_URL, {"from": "2024-05-10", "to": "2024-05-10"}))
    for minute in range(30):
        session = make_session(
            local(DAY, 11, minute), agent=agent, first_response_at=local(DAY, 11, minute, 30)
        )
        agent_says(session, agent, local(DAY, 11, minute, 30), response_seconds=30)
    with CaptureQueriesContext(connection) as many:
        _, rows = read_csv(manager_client.get(CONVERSATIONS_URL, {"from": "2024-05-10", "to": "2024-05-10"}))
    assert len(rows) == 1 + 31
    assert len(many) == len(few)


def test_agents_cannot_export(agent_client):
    assert agent_client.get(DAILY_URL).status_code == 403
    assert agent_client.get(CONVERSATIONS_URL).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"from": "10/05/2024"},
        {"from": "2024-05-10", "to": "2024-05-01"},
        {"from": "2020-01-01", "to": "2024-01-01"},
    ],
)
def test_bad_ranges_are_refused(manager_client, params):
    response = manager_client.get(CONVERSATIONS_URL, params)
    assert response.status_code == 400
    assert response.content
