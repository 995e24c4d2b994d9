"""Reply e-mails (chat/services/emails.py) and reopen links (chat/links.py): one module
(over 400 lines) for the whole path, from the chat left waiting to the link that reopens it.

Django's locmem mail backend stands in for the mail server here; test_reply_email_smtp.py
sends through a real SMTP server process.
"""

import re
import smtplib
import time
import uuid
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from chat import links, services
from chat.live import presence, tickets
from chat.models import ChatSession, EmailStatus, ReplyEmail
from chat.services import emails

pytestmark = pytest.mark.django_db

Status = ChatSession.Status


class BrokenBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the address."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"carla@example.com": (550, b"no such user carla@example.com")})


@pytest.fixture(autouse=True)
def email_on(settings):
    settings.CHAT_EMAIL_ENABLED = True
    settings.CHAT_PUBLIC_URL = "https://chat.example.com"
    settings.CHAT_EMAIL_AFTER_MINUTES = 5
    settings.CHAT_EMAIL_BATCH_SECONDS = 120


@pytest.fixture
def chat(agent):
    """A chat whose customer left an e-mail, was seen 10 minutes ago and has an agent."""
    session = services.session_open(customer_name="Carla", customer_email="carla@example.com")
    services.customer_message_post(session_key=session.session_id, content="Cadê meu pacote?")
    services.session_claim(session=session, agent=agent)
    ChatSession.objects.filter(pk=session.pk).update(customer_seen_at=timezone.now() - timedelta(minutes=10))
    return ChatSession.objects.get(pk=session.pk)


def reply(chat, agent, text="Seu pacote sai hoje.", **extra):
    return services.agent_message_post(session_pk=chat.pk, agent=agent, content=text, **extra).message


def later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


def customer_here(chat):
    presence.store().refresh({}, {"socket": chat.pk}, time.time())


class TestScheduling:
    def test_a_reply_to_a_customer_who_left_waits_for_the_batch_then_goes(self, chat, agent):
        reply(chat, agent)
        pending = ReplyEmail.objects.get()
        assert pending.status == EmailStatus.PENDING
        assert timedelta(seconds=119) < pending.due_at - timezone.now() <= timedelta(seconds=121)
        chat.refresh_from_db()
        assert chat.email_status == EmailStatus.PENDING

        assert emails.send_due_emails().sent == 0  # not due yet
        assert emails.send_due_emails(now=later(3)).sent == 1
        assert len(mail.outbox) == 1

    def test_a_customer_who_just_left_gets_it_after_the_set_minutes(self, chat, agent):
        ChatSession.objects.filter(pk=chat.pk).update(customer_seen_at=timezone.now() - timedelta(minutes=1))
        chat.refresh_from_db()
        reply(chat, agent)
        due = ReplyEmail.objects.get().due_at - timezone.now()
        assert timedelta(minutes=3, seconds=55) < due <= timedelta(minutes=4, seconds=1)

    def test_no_email_while_the_customer_is_on_the_page(self, chat, agent):
        customer_here(chat)
        reply(chat, agent)
        assert not ReplyEmail.objects.exists()

    def test_no_email_for_notes_or_without_an_address(self, chat, agent):
        reply(chat, agent, "nota", is_internal=True)
        assert not ReplyEmail.objects.exists()
        ChatSession.objects.filter(pk=chat.pk).update(customer_email="")
        reply(chat, agent)
        assert not ReplyEmail.objects.exists()

    def test_off_without_email_url(self, chat, agent, settings):
        settings.CHAT_EMAIL_ENABLED = False
        reply(chat, agent)
        assert not ReplyEmail.objects.exists()

    def test_an_unreachable_presence_store_never_fails_the_reply(self, chat, agent, settings):
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        message = reply(chat, agent)
        assert message.pk
        assert ReplyEmail.objects.filter(status=EmailStatus.PENDING).count() == 1  # away, to be safe


class TestSending:
    def test_several_replies_make_one_email_with_each_reply_as_text(self, chat, agent):
        for text in ("Olá, Carla!", "Seu pacote <script>alert(1)</script> sai hoje.", "Algo mais?"):
            reply(chat, agent, text)
        reply(chat, agent, "nota só nossa", is_internal=True)

        assert emails.send_due_emails(now=later(3)).sent == 1

        [sent] = mail.outbox
        assert sent.to == ["carla@example.com"]
        assert sent.subject == f"A J&T Express respondeu você (conversa nº {chat.pk})"
        for text in ("Olá, Carla!", "Seu pacote <script>alert(1)</script> sai hoje.", "Algo mais?"):
            assert text in sent.body
        assert "nota só nossa" not in sent.body
        html, kind = sent.alternatives[0]
        assert kind == "text/html"
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
        assert "Continue a conversa" in html  # pt-BR
        chat.refresh_from_db()
        assert chat.email_status == EmailStatus.SENT
        assert ReplyEmail.objects.get().reply_count == 3

    def test_a_reply_of_files_says_so_and_never_carries_them(self, chat, agent, settings, tmp_path):
        from chat.tests import files

        settings.MEDIA_ROOT = str(tmp_path)
        services.agent_files_post(
            session_pk=chat.pk,
            agent=agent,
            files=[
                files.upload("nota.pdf", files.pdf_bytes()),
                files.upload("foto.jpg", files.jpeg_with_gps()),
            ],
        )
        emails.send_due_emails(now=later(3))
        [sent] = mail.outbox
        assert "2 arquivos enviados: abra a conversa para vê-los." in sent.body
        assert not sent.attachments
        assert "nota.pdf" not in sent.body and "foto.jpg" not in sent.body

    def test_the_link_names_the_chat_by_a_token_never_by_its_key(self, chat, agent):
        reply(chat, agent)
        emails.send_due_emails(now=later(3))
        [sent] = mail.outbox
        link = re.search(r"https://chat\.example\.com/#reopen=(\S+)", sent.body)
        assert link
        assert links.chat_id_from_token(link.group(1)) == chat.pk
        for part in (sent.body, sent.alternatives[0][0], sent.subject):
            assert str(chat.session_id) not in part
            assert chat.session_id.hex not in part

    def test_the_next_email_carries_only_the_replies_after_the_last(self, chat, agent):
        reply(chat, agent, "primeira")
        emails.send_due_emails(now=later(3))
        reply(chat, agent, "segunda")
        emails.send_due_emails(now=later(6))
        assert len(mail.outbox) == 2
        assert "primeira" not in mail.outbox[1].body and "segunda" in mail.outbox[1].body

    def test_a_customer_who_came_back_gets_no_email(self, chat, agent):
        reply(chat, agent)
        services.session_customer_seen(session_pk=chat.pk)  # their page opened (and caught up)
        result = emails.send_due_emails(now=later(3))
        assert result.sent == 0 and result.skipped == 1
        assert not mail.outbox
        assert ReplyEmail.objects.get().status == EmailStatus.SKIPPED
        chat.refresh_from_db()
        assert chat.email_status == ""

    def test_a_customer_on_the_page_when_it_is_due_gets_no_email(self, chat, agent):
        reply(chat, agent)
        customer_here(chat)
        assert emails.send_due_emails(now=later(3)).sent == 0
        assert not mail.outbox

    def test_two_senders_never_send_the_same_email_twice(self, chat, agent):
        reply(chat, agent)
        emails.send_due_emails(now=later(3))
        emails.send_due_emails(now=later(4))
        assert len(mail.outbox) == 1


class TestFailures:
    def test_a_mail_server_that_is_down_never_fails_the_reply_and_is_retried(
        self, chat, agent, settings, agent_client
    ):
        settings.EMAIL_BACKEND = "chat.tests.test_reply_emails.BrokenBackend"
        message = reply(chat, agent, "Seu pacote sai hoje.")  # stored, as always
        assert message.pk

        first_try = later(3)
        result = emails.send_due_emails(now=first_try)

        assert result.failed == 1
        email = ReplyEmail.objects.get()
        assert email.status == EmailStatus.PENDING and email.attempts == 1
        assert email.last_error == "ConnectionRefusedError"
        assert email.due_at == first_try + timedelta(minutes=emails.RETRY_MINUTES[0])
        chat.refresh_from_db()
        assert chat.email_status == EmailStatus.FAILED
        # The agent sees it, in the conversation and in the inbox.
        page = agent_client.get(reverse("admin:chat_chatsession_change", args=[chat.pk])).text
        assert "E-mail não enviado" in page
        inbox = agent_client.get(reverse("admin:chat_chatsession_changelist")).text
        assert 'data-mark="email-failed"' in inbox

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert emails.send_due_emails(now=first_try).sent == 0  # not before its retry time
        assert emails.send_due_emails(now=later(10)).sent == 1
        assert "Seu pacote sai hoje." in mail.outbox[0].body
        chat.refresh_from_db()
        assert chat.email_status == EmailStatus.SENT

    def test_a_refused_address_is_not_retried_and_the_error_names_no_address(self, chat, agent, settings):
        settings.EMAIL_BACKEND = "chat.tests.test_reply_emails.RefusingBackend"
        reply(chat, agent)
        emails.send_due_emails(now=later(3))
        email = ReplyEmail.objects.get()
        assert email.status == EmailStatus.FAILED
        assert "carla" not in email.last_error and email.last_error == "SMTPRecipientsRefused"

    def test_it_gives_up_after_the_last_attempt(self, chat, agent, settings):
        settings.EMAIL_BACKEND = "chat.tests.test_reply_emails.BrokenBackend"
        reply(chat, agent)
        for attempt in range(emails.MAX_ATTEMPTS):
            emails.send_due_emails(now=later(3 + 100 * attempt))
        email = ReplyEmail.objects.get()
        assert email.status == EmailStatus.FAILED and email.attempts == emails.MAX_ATTEMPTS

    def test_a_reply_made_while_a_send_fails_goes_in_the_next_email(self, chat, agent, settings, monkeypatch):
        settings.EMAIL_BACKEND = "chat.tests.test_reply_emails.BrokenBackend"
        reply(chat, agent, "primeira")
        real_claim = emails._claim

        def claim_then_reply(pk, now):
            claimed = real_claim(pk, now)
            reply(chat, agent, "segunda")  # arrives while the first is being sent
            return claimed

        monkeypatch.setattr(emails, "_claim", claim_then_reply)
        emails.send_due_emails(now=later(3))
        monkeypatch.setattr(emails, "_claim", real_claim)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

        emails.send_due_emails(now=later(30))

        [sent] = mail.outbox
        assert "primeira" in sent.body and "segunda" in sent.body

    def test_an_email_left_sending_by_a_crash_is_sent_again(self, chat, agent):
        reply(chat, agent)
        ReplyEmail.objects.update(status=EmailStatus.SENDING, claimed_at=later(-20))
        assert emails.send_due_emails(now=later(3)).sent == 1

    def test_after_a_crash_the_chats_next_email_carries_the_lost_ones_replies(self, chat, agent):
        reply(chat, agent, "primeira")
        ReplyEmail.objects.update(status=EmailStatus.SENDING, claimed_at=later(-20))
        reply(chat, agent, "segunda")  # a new pending e-mail for the same chat
        assert emails.send_due_emails(now=later(3)).sent == 1
        [sent] = mail.outbox
        assert "primeira" in sent.body and "segunda" in sent.body
        assert sorted(ReplyEmail.objects.values_list("status", flat=True)) == ["sent", "skipped"]


class TestCommand:
    def test_sends_what_is_due_and_says_so(self, chat, agent, capsys):
        reply(chat, agent)
        ReplyEmail.objects.update(due_at=later(-1))
        call_command("send_reply_emails")
        assert "1 sent" in capsys.readouterr().out
        assert len(mail.outbox) == 1

    def test_bad_loop_value(self):
        with pytest.raises(CommandError):
            call_command("send_reply_emails", "--loop", "-1")

    def test_off_without_email_url(self, settings, capsys):
        settings.CHAT_EMAIL_ENABLED = False
        call_command("send_reply_emails")
        assert "EMAIL_URL" in capsys.readouterr().out


# --- coming back through the link ----------------------------------------------------


def reopen(client, token):
    return client.post(reverse("chat-reopen"), {"token": token}, content_type="application/json")


class TestReopen:
    def test_the_token_is_traded_for_the_chat_and_its_key(self, client, chat):
        response = reopen(client, links.reopen_token(chat))
        assert response.status_code == 200
        assert response.json()["session_id"] == str(chat.session_id)
        assert response.json()["status"] == "active"

    @pytest.mark.parametrize(
        "token",
        ["", "x", "not-a-token", "a" * 500, None, 42, ["token"]],
    )
    def test_garbage_is_refused_alike(self, client, token):
        response = reopen(client, token)
        assert response.status_code == 404
        assert response.json()["code"] == "link_invalid"

    def test_forged_expired_and_foreign_tokens_are_refused_alike(
        self, client, chat, agent, settings, monkeypatch
    ):
        other = services.session_open(customer_name="Diego")
        genuine = links.reopen_token(chat)
        answers = []
        # another chat's number put in the token: the signature no longer matches
        payload, rest = genuine.split(":", 1)
        forged = signing.dumps({"chat": other.pk}, salt=links.REOPEN_SALT)
        answers.append(reopen(client, forged.split(":", 1)[0] + ":" + rest))
        answers.append(reopen(client, genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")))
        # signed by this site for another purpose (an agent's socket ticket)
        answers.append(reopen(client, tickets.issue_agent_ticket(agent)))
        # signed with another key
        answers.append(reopen(client, signing.dumps({"chat": chat.pk}, salt=links.REOPEN_SALT, key="x" * 50)))
        # a chat that no longer exists
        gone = services.session_open()
        gone_token = links.reopen_token(gone)
        gone.delete()
        answers.append(reopen(client, gone_token))
        # expired
        issued = time.time() - settings.CHAT_EMAIL_LINK_MAX_AGE_HOURS * 3600 - 60
        monkeypatch.setattr(signing.time, "time", lambda: issued)
        old = links.reopen_token(chat)
        monkeypatch.undo()
        answers.append(reopen(client, old))

        bodies = {(answer.status_code, answer.content) for answer in answers}
        assert len(bodies) == 1, bodies  # nothing tells one case from another
        [(code, content)] = bodies
        assert code == 404 and b"link_invalid" in content
        assert str(other.session_id).encode() not in content

    def test_a_chat_closed_for_inactivity_opens_again(
        self, client, chat, agent, django_capture_on_commit_callbacks
    ):
        services.session_end(session=chat, ended_by=ChatSession.EndedBy.SYSTEM)
        body = reopen(client, links.reopen_token(chat)).json()
        assert body["status"] == "waiting"  # Ana is not online: back in the queue
        chat.refresh_from_db()
        assert chat.ended_at is None and chat.assigned_agent is None
        assert chat.messages.filter(author="system", content__contains="e-mail").exists()

    def test_a_chat_the_customer_ended_stays_ended(self, client, chat):
        services.session_end(session=chat, ended_by=ChatSession.EndedBy.CUSTOMER)
        body = reopen(client, links.reopen_token(chat)).json()
        assert body["status"] == "ended"
        assert body["session_id"] == str(chat.session_id)


class TestCustomerEmail:
    def test_the_customer_gives_an_address(self, client):
        session = services.session_open()
        response = client.post(
            reverse("chat-email"),
            {"session_id": str(session.session_id), "customer_email": "maria@example.com"},
            content_type="application/json",
        )
        assert response.status_code == 200
        session.refresh_from_db()
        assert session.customer_email == "maria@example.com"

    @pytest.mark.parametrize("value", ["", "maria", "maria@", "@example.com", 42, None, "a" * 250 + "@x.com"])
    def test_an_invalid_address_is_a_400_naming_the_field(self, client, value):
        session = services.session_open(customer_email="old@example.com")
        response = client.post(
            reverse("chat-email"),
            {"session_id": str(session.session_id), "customer_email": value},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "customer_email" in response.json()["fields"]
        session.refresh_from_db()
        assert session.customer_email == "old@example.com"

    def test_unknown_and_ended_chats(self, client):
        body = {"session_id": str(uuid.uuid4()), "customer_email": "maria@example.com"}
        assert client.post(reverse("chat-email"), body, content_type="application/json").status_code == 404
        session = services.session_open()
        services.session_end(session=session, ended_by="customer")
        body["session_id"] = str(session.session_id)
        assert client.post(reverse("chat-email"), body, content_type="application/json").status_code == 409


def test_render_sends_reply_emails_every_minute_with_the_shared_settings():
    import yaml
    from django.conf import settings as django_settings

    from chat.hours import parse_business_hours

    blueprint = yaml.safe_load((django_settings.BASE_DIR / "render.yaml").read_text())
    services = {service["name"]: service for service in blueprint["services"]}
    groups = {group["name"]: group for group in blueprint["envVarGroups"]}
    shared = {item["key"]: item for item in groups["jtchat-service"]["envVars"]}

    def keys(service):
        return {item.get("key") or ("group", item["fromGroup"]) for item in service["envVars"]}

    job = services["jtchat-reply-emails"]
    assert job["type"] == "cron" and job["schedule"] == "* * * * *"
    assert job["startCommand"] == "python manage.py send_reply_emails"
    assert job["plan"] != "free"  # free instances cannot reach SMTP ports
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", ("group", "jtchat-service")} <= keys(
        job
    )
    for name in ("jtchat-web", "jtchat-ws"):
        assert ("group", "jtchat-service") in keys(services[name])
    assert shared["EMAIL_URL"] == {"key": "EMAIL_URL", "sync": False}  # a secret, asked for
    assert shared["CHAT_PUBLIC_URL"]["value"].startswith("https://")
    parse_business_hours(shared["CHAT_BUSINESS_HOURS"]["value"])  # a value the check accepts
