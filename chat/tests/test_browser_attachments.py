"""Photos in the chat, end to end in headless Chromium against a real ASGI server.

A customer attaches a photo from the page (the upload can be cancelled and retried with the
same client_id); the agent, with the conversation open in the admin, sees its thumbnail
arrive live and opens the photo; another customer's key and an anonymous request get 404.
"""

import uuid

import pytest
from django.test import Client
from playwright.sync_api import expect

from chat.models import ChatAttachment, ChatMessage, ChatSession

from . import files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WAIT_MS = 10000


@pytest.fixture
def new_page(browser):
    contexts = []
    problems: list[str] = []

    def opener(**options):
        context = browser.new_context(locale="pt-BR", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    opener.problems = problems
    yield opener
    for context in contexts:
        context.close()


def start_chat(page, base, name):
    page.goto(base + "/")
    page.fill("#customer-name", name)
    page.click("#start-form button[type=submit]")
    expect(page.locator("#chat-view")).to_be_visible()
    return page.evaluate("localStorage.getItem('jtchat.session')")


def natural_width(locator) -> int:
    return locator.evaluate("image => image.complete ? image.naturalWidth : 0")


def test_a_customer_sends_a_photo_the_agent_sees_it_live_and_strangers_get_404(
    live_asgi_server, new_page, agent
):
    base = live_asgi_server.url
    customer = new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    key = start_chat(customer, base, "Maria")
    chat = ChatSession.objects.get(session_id=key)

    # The picker offers the camera on a phone, and the formats the server takes.
    assert customer.get_attribute("#attach-camera", "capture") == "environment"
    assert "image/jpeg" in customer.get_attribute("#attach-file", "accept")

    staff = Client()
    staff.force_login(agent)
    conversation = new_page(viewport={"width": 1400, "height": 900})
    conversation.context.add_cookies(
        [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": base}]
    )
    conversation.goto(f"{base}/admin/chat/chatsession/{chat.pk}/change/")
    expect(conversation.locator("#live-state")).to_have_attribute("data-state", "live")

    # First attempt: held by the network, cancelled by the customer.
    held = []
    customer.route("**/api/chat/attachments", lambda route: held.append(route))
    photo = files.jpeg_with_gps()
    customer.set_input_files(
        "#attach-file", files=[{"name": "caixa.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    expect(customer.locator("#attach-tray .file-chip")).to_have_count(1)
    customer.fill("#message-input", "A caixa chegou assim")
    customer.press("#message-input", "Enter")
    pending = customer.locator("#message-list .msg[data-author=customer]").last
    expect(pending.locator("progress")).to_be_visible()
    expect(pending.locator(".file__name")).to_contain_text("caixa.jpg")
    pending.locator("button[data-action=cancel]").click()
    expect(pending).to_have_attribute("data-state", "cancelled")
    assert not ChatMessage.objects.filter(session=chat, author="customer").exists()

    # Retried: the same message (same client_id) goes, once.
    customer.unroute("**/api/chat/attachments")
    client_id = pending.get_attribute("data-client-id")
    pending.locator("button[data-action=retry]").click()
    expect(pending).to_have_attribute("data-state", "sent")
    thumbnail = pending.locator("img.file__thumbnail")
    expect(thumbnail).to_be_visible()
    # Fetched with the chat's key: wait for the image itself, not just its element.
    thumbnail.evaluate(
        "image => image.complete && image.naturalWidth > 0"
        " || new Promise(done => image.addEventListener('load', () => done(true), {once: true}))"
    )
    assert natural_width(thumbnail) > 0
    message = ChatMessage.objects.get(session=chat, author="customer")
    assert str(message.client_id) == client_id and message.content == "A caixa chegou assim"
    attachment = ChatAttachment.objects.get(message=message)

    # The agent: the thumbnail arrives live, and opens the photo.
    live = conversation.locator(f'#transcript [data-message-id="{message.pk}"] img.msg-thumbnail')
    expect(live).to_be_visible()
    expect(conversation.locator("#transcript")).to_contain_text("A caixa chegou assim")
    conversation.wait_for_function(
        "(id) => { const i = document.querySelector(`[data-message-id='${id}'] img.msg-thumbnail`);"
        " return i && i.complete && i.naturalWidth > 0; }",
        arg=message.pk,
    )
    with conversation.context.expect_page() as opened:
        live.click()
    photo_tab = opened.value
    photo_tab.wait_for_load_state()
    assert photo_tab.url.endswith(f"/api/chat/attachments/{attachment.pk}")
    assert photo_tab.evaluate("document.images.length && document.images[0].naturalWidth") == 640
    answer = conversation.context.request.get(f"{base}/api/chat/attachments/{attachment.pk}")
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["x-content-type-options"] == "nosniff"

    # The customer opens the photo full size from the page.
    thumbnail.click()
    expect(customer.locator("#file-dialog")).to_be_visible()
    customer.wait_for_function(
        "() => { const i = document.getElementById('file-dialog-image');"
        " return i.complete && i.naturalWidth === 640; }"
    )

    # Strangers: another customer's key, a made-up key, nobody.
    other = new_page(viewport={"width": 390, "height": 844})
    other_key = start_chat(other, base, "Beto")
    url = f"/api/chat/attachments/{attachment.pk}"
    for stranger_key in (other_key, str(uuid.uuid4())):
        status = other.evaluate(
            "([url, key]) => fetch(url, {headers: {'X-Chat-Session': key}}).then(r => r.status)",
            [url, stranger_key],
        )
        assert status == 404
    anonymous = new_page()
    assert anonymous.request.get(base + url).status == 404
    assert anonymous.request.get(base + url + "/thumbnail").status == 404
    assert new_page.problems == []
