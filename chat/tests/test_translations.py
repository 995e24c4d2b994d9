"""The pt-BR catalog: complete, consistent with the source strings, compiled, and what people see."""

import ast
import json
import re
import uuid
from collections import Counter
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from chat import services
from chat.models import ChatMessage

PO_PATH = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# %(name)s / %s / %d / %02d ... (not %%), and str.format's {name}.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]|\{[A-Za-z_]\w*\}")
KEYWORD = re.compile(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (\".*\")$")


def parse_po(text: str) -> list[dict]:
    """The catalog's entries (header first), each with its flags and fields as plain strings.

    Obsolete entries (#~) are skipped; translations never come from them.
    """
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry: dict = {"flags": set(), "fields": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif match := KEYWORD.match(line):
                field = match.group(1)
                entry["fields"][field] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and field:
                entry["fields"][field] += ast.literal_eval(line)
        if "msgid" in entry["fields"]:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def entries():
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(entries):
    return [entry for entry in entries if entry["fields"]["msgid"]]


def translations(entry) -> list[tuple[str, str]]:
    """(source, translation) pairs: msgstr[0] goes with msgid, msgstr[1] with msgid_plural."""
    fields = entry["fields"]
    if "msgid_plural" in fields:
        return [(fields["msgid"], fields["msgstr[0]"]), (fields["msgid_plural"], fields["msgstr[1]"])]
    return [(fields["msgid"], fields["msgstr"])]


class TestCatalog:
    def test_header_declares_brazilian_portuguese_utf8_and_its_plural_rule(self, entries):
        header = entries[0]
        assert header["fields"]["msgid"] == ""
        assert "fuzzy" not in header["flags"]
        text = header["fields"]["msgstr"]
        assert "Language: pt_BR\n" in text
        assert "charset=UTF-8" in text
        assert "Plural-Forms: nplurals=2; plural=(n > 1);" in text

    def test_catalog_has_the_strings_of_every_screen(self, messages):
        msgids = {entry["fields"]["msgid"] for entry in messages}
        assert len(messages) > 300
        assert {
            "%(agent)s is helping you.",
            "%(agent)s joined the chat.",
            "Inbox",
            "Service metrics",
        } <= msgids

    def test_every_entry_is_translated(self, messages):
        untranslated = [
            entry["fields"]["msgid"]
            for entry in messages
            if not all(text.strip() for _source, text in translations(entry))
        ]
        assert untranslated == []

    def test_no_entry_is_fuzzy(self, messages):
        assert [entry["fields"]["msgid"] for entry in messages if "fuzzy" in entry["flags"]] == []

    def test_placeholders_are_kept(self, messages):
        mismatched = [
            (source, text)
            for entry in messages
            for source, text in translations(entry)
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text))
        ]
        assert mismatched == []

    def test_plural_entries_have_both_forms(self, messages):
        plurals = [entry for entry in messages if "msgid_plural" in entry["fields"]]
        assert plurals
        for entry in plurals:
            assert set(entry["fields"]) >= {"msgstr[0]", "msgstr[1]"}
            assert "msgstr[2]" not in entry["fields"]

    def test_compiled_catalog_is_committed_and_up_to_date(self, messages):
        """Render does not compile messages: what Django serves is the .mo next to the .po."""
        assert MO_PATH.exists()
        stale = []
        with translation.override("pt-br"):
            for entry in messages:
                fields = entry["fields"]
                context = fields.get("msgctxt")
                if "msgid_plural" in fields:
                    pairs = [
                        (translation.npgettext(context, fields["msgid"], fields["msgid_plural"], count)
                         if context else translation.ngettext(fields["msgid"], fields["msgid_plural"], count),
                         fields[f"msgstr[{index}]"])
                        for index, count in ((0, 1), (1, 2))
                    ]  # fmt: skip
                else:
                    served = (
                        translation.pgettext(context, fields["msgid"])
                        if context
                        else translation.gettext(fields["msgid"])
                    )
                    pairs = [(served, fields["msgstr"])]
                stale += [
                    (fields["msgid"], served, expected) for served, expected in pairs if served != expected
                ]
        assert stale == []


@pytest.mark.django_db
class TestWhatPeopleSee:
    def test_customer_page_is_in_portuguese_by_default(self, client):
        response = client.get(reverse("chat-page"))
        assert response.status_code == 200
        html = response.content.decode()
        assert '<html lang="pt-BR">' in html
        assert '<label for="tracking-code">Código de rastreio</label>' in html
        strings = json.loads(
            unescape(
                re.search(r'<script id="chat-strings" type="application/json">(.*?)</script>', html).group(1)
            )
        )
        assert strings["agent_helping"] == "%(agent)s está te atendendo."

    def test_system_message_is_stored_in_portuguese_whatever_the_request_language(self, agent):
        session = services.session_open(customer_name="Maria")
        with translation.override("en"):
            services.session_claim(session=session, agent=agent)
        system = ChatMessage.objects.filter(session=session, author=ChatMessage.Author.SYSTEM).last()
        assert system.content == "Ana entrou na conversa."

    def test_api_errors_are_in_portuguese(self, client):
        unknown = client.get(reverse("chat-messages"), HTTP_X_CHAT_SESSION=str(uuid.uuid4()))
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "Conversa não encontrada."
        invalid = client.post(reverse("chat-session"), {"topic": "nonsense"}, content_type="application/json")
        assert invalid.status_code == 400
        assert invalid.json()["error"] == "Alguns campos são inválidos."

    def test_agent_inbox_is_in_portuguese(self, agent_client):
        response = agent_client.get(reverse("admin:chat_chatsession_changelist"))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'aria-label="Caixa de entrada"' in html
        assert "Minhas" in html
        assert "Assumir as conversas selecionadas" in html
