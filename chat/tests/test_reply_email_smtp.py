"""A reply reaches a customer who left, through a real SMTP server process, and its link
brings them back to the chat in Chromium.

Real parts: the ASGI server (page, sockets, API) on Redis; ``manage.py send_reply_emails``
as its own process (as Render's cron runs it); an aiosmtpd server on 127.0.0.1 writing a
maildir. The mail server is down for the first run: the reply is stored and the e-mail is
retried by the next run. The link's token is refused once tampered with, once expired.
"""

import mailbox
import re
import subprocess
import sys
import time

import httpx
import pytest
from django.core import signing
from django.utils import timezone
from playwright.sync_api import expect

from chat import links, services
from chat.live import presence
from chat.models import ChatSession, EmailStatus, ReplyEmail
from jtchat.testing import BASE_DIR, free_port, server_env, start_asgi_server, wait_for_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT_MS = 10000
REPLY = "Seu pacote sai hoje <b>cedo</b>.\nQualquer coisa, é só chamar."


@pytest.fixture
def server(redis_layer, tmp_path):
    process = start_asgi_server(redis_layer, tmp_path)
    yield process
    process.stop()


@pytest.fixture
def mail_port():
    return free_port()


@pytest.fixture
def smtp_server(mail_port, tmp_path):
    """Starts aiosmtpd on ``mail_port`` when called; returns the maildir it writes."""
    started = []
    maildir = tmp_path / "maildir"

    def start():
        process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{mail_port}"]
            + ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        wait_for_port(mail_port, process=process)
        return maildir

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def send_reply_emails(server, redis_url: str, mail_port: int) -> str:
    """``manage.py send_reply_emails`` as Render's cron runs it: its own process."""
    env = server_env(redis_url, EMAIL_URL=f"smtp://127.0.0.1:{mail_port}", CHAT_PUBLIC_URL=server.url)
    done = subprocess.run(
        [sys.executable, "manage.py", "send_reply_emails"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_reply_by_email_brings_the_customer_back_through_a_real_mail_server(
    server, smtp_server, mail_port, redis_layer, browser, agent, settings
):
    settings.REDIS_URL = redis_layer  # this process reads the presence the server writes
    settings.CHAT_EMAIL_ENABLED = True
    settings.CHAT_EMAIL_AFTER_MINUTES = 0
    settings.CHAT_EMAIL_BATCH_SECONDS = 0
    contexts = []

    def page():
        context = browser.new_context(locale="pt-BR", viewport={"width": 375, "height": 800})
        contexts.append(context)
        new = context.new_page()
        new.set_default_timeout(WAIT_MS)
        return new

    try:
        # The customer opens a chat with an e-mail, writes, and closes the page.
        customer = page()
        customer.goto(server.url + "/")
        customer.fill("#customer-name", "Maria")
        customer.fill("#customer-email", "maria@example.com")
        customer.click("#start-form button[type=submit]")
        expect(customer.locator("#app")).to_have_attribute("data-connection", "live")
        customer.fill("#message-input", "Cadê meu pacote?")
        customer.press("#message-input", "Enter")
        expect(customer.locator(".msg[data-author=customer]")).to_have_attribute("data-state", "sent")
        chat = ChatSession.objects.get(session_id=customer.evaluate("localStorage.getItem('jtchat.session')"))
        assert presence.customer_connected(chat.pk)
        customer.context.close()
        deadline = time.monotonic() + 5
        while presence.customer_connected(chat.pk) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not presence.customer_connected(chat.pk)

        # The agent answers, with the conversation open. The mail server is down: the reply
        # is stored all the same, and the agent sees the e-mail was not sent.
        conversation = page()
        conversation.goto(f"{server.url}/admin/login/?next=/admin/chat/chatsession/{chat.pk}/change/")
        conversation.fill("#id_username", "ana")
        conversation.fill("#id_password", "pass-1234-word")
        conversation.click("input[type=submit]")
        expect(conversation.locator("#live-state")).to_have_attribute("data-state", "live")
        message = services.agent_message_post(session_pk=chat.pk, agent=agent, content=REPLY).message
        assert message.pk and ReplyEmail.objects.get().status == EmailStatus.PENDING
        assert "0 sent, 1 failed" in send_reply_emails(server, redis_layer, mail_port)
        chat.refresh_from_db()
        assert chat.email_status == EmailStatus.FAILED
        assert ReplyEmail.objects.get().attempts == 1
        expect(conversation.locator("#chat-email-live")).to_contain_text("E-mail não enviado")

        # The mail server is back; the next run (at the retry time) delivers it.
        maildir = smtp_server()
        ReplyEmail.objects.update(due_at=timezone.now())
        assert "1 sent, 0 failed" in send_reply_emails(server, redis_layer, mail_port)
        expect(conversation.locator("#chat-email-live")).to_contain_text("E-mail enviado")
        [received] = mailbox.Maildir(maildir, create=False)
        assert received["To"] == "maria@example.com"
        texts = {
            part.get_content_type(): part.get_payload(decode=True).decode(part.get_content_charset())
            for part in received.walk()
            if not part.is_multipart()
        }
        assert REPLY in texts["text/plain"].replace("\r\n", "\n")
        assert "&lt;b&gt;cedo&lt;/b&gt;" in texts["text/html"] and "<b>cedo</b>" not in texts["text/html"]
        assert str(chat.session_id) not in texts["text/plain"] + texts["text/html"]
        link = re.search(r"(http://127\.0\.0\.1:\d+/#reopen=\S+)", texts["text/plain"]).group(1)

        # The link reopens the conversation; the token leaves the address bar.
        back = page()
        back.goto(link)
        expect(back.locator(".msg[data-author=agent]")).to_contain_text("Seu pacote sai hoje <b>cedo</b>.")
        expect(back.locator(".msg[data-author=customer]")).to_contain_text("Cadê meu pacote?")
        assert "reopen" not in back.url
        assert back.evaluate("localStorage.getItem('jtchat.session')") == str(chat.session_id)

        # Tampered with (naming another chat): a clear notice, nothing revealed.
        other = services.session_open(customer_name="Diego")
        token = link.split("#reopen=", 1)[1]
        forged = signing.dumps({"chat": other.pk}, salt=links.REOPEN_SALT).split(":", 1)[0]
        forged += ":" + token.split(":", 1)[1]
        refused = page()
        refused.goto(f"{server.url}/#reopen={forged}")
        expect(refused.locator("#page-notice")).to_contain_text("não é mais válido")
        expect(refused.locator("#start-view")).to_be_visible()
        assert refused.evaluate("localStorage.getItem('jtchat.session')") is None

        # Expired: refused by the server alike.
        issued = time.time() - settings.CHAT_EMAIL_LINK_MAX_AGE_HOURS * 3600 - 60
        original = signing.time.time
        signing.time.time = lambda: issued
        try:
            expired = links.reopen_token(chat)
        finally:
            signing.time.time = original
        answer = httpx.post(f"{server.url}/api/chat/reopen", json={"token": expired})
        assert answer.status_code == 404 and answer.json()["code"] == "link_invalid"
        assert str(chat.session_id) not in answer.text
    finally:
        for context in contexts:
            context.close()
