"""Photos and documents in the chat: real files made here, sent through the API as the page
and the admin send them, checked as stored and as served.

One module for the whole feature (over 400 lines) because its sections share the fixtures
and helpers that make, send and read back files: what is stored, what is refused, retries,
who may open a file, agents, everywhere a message goes, retention, metrics, the schema.
The object-storage path and the browser are in test_attachments_s3.py and
test_browser_attachments.py."""

import io
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from chat import payloads, services
from chat.live import events
from chat.models import ChatAttachment, ChatMessage, ChatSession
from conftest import make_staff

from . import files as f

pytestmark = pytest.mark.django_db

UPLOAD = "/api/chat/attachments"


@pytest.fixture
def media(settings, tmp_path):
    """A fresh, empty MEDIA_ROOT: the files a test stores, and nothing else."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return sorted(path for path in media.rglob("*") if path.is_file()) if media.exists() else []


@pytest.fixture
def chat():
    return services.session_open(customer_name="Maria")


def send(client, chat, *uploads, key=None, **fields):
    key = str(chat.session_id) if key is None else key
    return client.post(UPLOAD, {"files": list(uploads), **fields}, HTTP_X_CHAT_SESSION=key)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def served(client, url, **headers) -> bytes:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:200]
    return b"".join(response.streaming_content)


def as_customer(chat) -> dict:
    return {"HTTP_X_CHAT_SESSION": str(chat.session_id)}


# --- what is stored ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kept", "red_at"),
    [
        # a phone's 12-megapixel JPEG, sideways: decoded at half scale, then turned upright
        (lambda: f.jpeg_bytes(f.photo((4032, 3024)), exif=f.exif_with_gps(orientation=6).tobytes()),
         (1512, 2016), "top right"),
        # a long PNG screenshot: decoded whole, then made smaller
        (lambda: f.png_of(f.photo((3000, 400))), (2048, 273), "top left"),
        # at the limit: kept as sent
        (lambda: f.jpeg_bytes(f.photo((2048, 1024))), (2048, 1024), "top left"),
    ],
)  # fmt: skip
def test_a_large_photo_is_kept_at_most_2048_pixels_on_its_long_side(client, chat, media, data, kept, red_at):
    answer = send(client, chat, f.upload("foto", data()))
    assert answer.status_code == 201
    [item] = answer.json()["attachments"]
    assert (item["width"], item["height"]) == kept
    stored = opened(served(client, item["url"], **as_customer(chat)))
    assert stored.size == kept
    x = kept[0] - 5 if red_at == "top right" else 5
    red, green, _ = stored.getpixel((x, 5))
    assert red > 200 and green < 60  # the red block, where the customer saw it


def test_a_photo_with_gps_is_stored_without_its_metadata(client, chat, media):
    original = f.jpeg_with_gps()
    assert b"Pixel 7 Secreto" in original and opened(original).getexif().get_ifd(f.GPS_IFD)

    answer = send(client, chat, f.upload("IMG_2041.JPG", original, "image/jpeg"), content="Caixa amassada")

    assert answer.status_code == 201
    message = answer.json()
    assert message["content"] == "Caixa amassada"
    [item] = message["attachments"]
    assert item["kind"] == "image" and item["content_type"] == "image/jpeg"
    assert item["name"] == "IMG_2041.jpg" and (item["width"], item["height"]) == (640, 480)
    data = served(client, item["url"], **as_customer(chat))
    assert item["size"] == len(data)
    image = opened(data)
    assert image.format == "JPEG" and image.size == (640, 480)
    assert len(image.getexif()) == 0 and "exif" not in image.info and "comment" not in image.info
    for secret in (b"Pixel 7 Secreto", b"Google", b"taken at home", b"Exif"):
        assert secret not in data
    thumbnail = opened(served(client, item["thumbnail_url"], **as_customer(chat)))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == 320 and len(thumbnail.getexif()) == 0
    assert len(stored_files(media)) == 2  # the photo and its thumbnail


def test_a_sideways_phone_photo_is_stored_upright(client, chat, media):
    [item] = send(client, chat, f.upload("retrato.jpg", f.rotated_phone_photo())).json()["attachments"]
    image = opened(served(client, item["url"], **as_customer(chat))).convert("RGB")
    assert image.size == (480, 640) and (item["width"], item["height"]) == (480, 640)
    red, blue = (230, 20, 20), (20, 20, 230)

    def near(pixel, color):
        return all(abs(a - b) < 40 for a, b in zip(pixel, color, strict=True))

    # Orientation 6: the stored top-left corner is shown top right, the bottom right bottom left.
    assert near(image.getpixel((470, 10)), red) and near(image.getpixel((10, 630)), blue)
    assert 0x0112 not in image.getexif()


def test_png_webp_and_heic_are_accepted_and_re_encoded(client, chat, media):
    answer = send(
        client,
        chat,
        f.upload("tela.png", f.png_bytes(), "image/png"),
        f.upload("etiqueta.webp", f.webp_bytes(), "image/webp"),
        f.upload("IMG_0001.HEIC", f.heic_bytes(), "image/heic"),
    )
    assert answer.status_code == 201
    png, webp, heic = answer.json()["attachments"]
    image = opened(served(client, png["url"], **as_customer(chat)))
    assert image.format == "PNG" and image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0
    assert "Author" not in image.info and len(image.getexif()) == 0
    assert webp["content_type"] == "image/webp"
    assert len(opened(served(client, webp["url"], **as_customer(chat))).getexif()) == 0
    # Browsers cannot show HEIC: an iPhone photo is kept as JPEG.
    assert heic["content_type"] == "image/jpeg" and heic["name"] == "IMG_0001.jpg"
    image = opened(served(client, heic["url"], **as_customer(chat)))
    assert image.format == "JPEG" and image.size == (400, 300) and len(image.getexif()) == 0


def test_a_pdf_is_kept_as_sent_and_always_served_as_a_download(client, chat, media):
    original = f.pdf_bytes()
    [item] = send(client, chat, f.upload("nota fiscal.pdf", original, "application/pdf")).json()[
        "attachments"
    ]
    assert item["kind"] == "document" and item["thumbnail_url"] is None and item["size"] == len(original)
    response = client.get(item["url"], **as_customer(chat))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="nota fiscal.pdf"'
    assert b"".join(response.streaming_content) == original
    assert client.get(item["url"] + "/thumbnail", **as_customer(chat)).status_code == 404


def test_a_jpeg_html_polyglot_is_served_as_an_inert_image(client, chat, media):
    polyglot = f.jpeg_html_polyglot()
    assert opened(polyglot).format == "JPEG" and b"<script>" in polyglot
    [item] = send(client, chat, f.upload("page.html", polyglot, "text/html")).json()["attachments"]
    response = client.get(item["url"], **as_customer(chat))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"] == 'inline; filename="page.jpg"'
    assert b"<script" not in body and b"<html" not in body  # re-encoded: only the picture is left
    assert item["name"] == "page.jpg"


# --- what is refused ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("desenho.svg", f.SVG_WITH_SCRIPT, "image/svg+xml"),
        ("foto.jpg", f.SVG_WITH_SCRIPT, "image/jpeg"),  # a name and a type that lie
        ("pagina.jpg", f.POLYGLOT_HTML, "image/jpeg"),
        ("animacao.gif", b"GIF89a" + b"\x00" * 40, "image/gif"),
    ],
)
def test_anything_but_the_accepted_formats_is_refused_with_the_formats_that_work(
    client, chat, media, name, data, content_type
):
    answer = send(client, chat, f.upload(name, data, content_type))
    assert answer.status_code == 415
    body = answer.json()
    assert body["code"] == "unsupported_file" and name in body["error"]
    for format_name in ("JPEG", "PNG", "WebP", "HEIC", "PDF"):
        assert format_name in body["error"]
    assert not ChatMessage.objects.exists() and stored_files(media) == []


def test_a_damaged_image_is_refused(client, chat, media):
    answer = send(client, chat, f.upload("quebrada.jpg", f.jpeg_with_gps()[:400]))
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_file"
    assert "quebrada.jpg" in answer.json()["error"]
    assert not ChatMessage.objects.exists() and stored_files(media) == []


def test_an_oversized_file_is_refused_with_413_and_nothing_is_stored(client, chat, media, settings):
    settings.CHAT_ATTACHMENT_MAX_BYTES = 200_000
    big = f.jpeg_bytes(Image.effect_noise((700, 700), 100).convert("RGB"))
    assert len(big) > 200_000
    answer = send(client, chat, f.upload("ok.png", f.png_bytes()), f.upload("enorme.jpg", big))
    assert answer.status_code == 413
    assert answer.json()["code"] == "file_too_large" and "enorme.jpg" in answer.json()["error"]
    assert "195,3" in answer.json()["error"] or "195.3" in answer.json()["error"]  # the limit, in KB
    assert not ChatMessage.objects.exists() and not ChatAttachment.objects.exists()
    assert stored_files(media) == []


def test_a_body_larger_than_any_message_is_refused_before_it_is_read(client, chat, media, settings):
    settings.CHAT_ATTACHMENT_MAX_BYTES = 1000
    answer = client.generic(
        "POST",
        UPLOAD,
        b"x" * 10,
        content_type="multipart/form-data; boundary=abc",
        HTTP_X_CHAT_SESSION=str(chat.session_id),
        CONTENT_LENGTH="999999999",
    )
    assert answer.status_code == 413 and answer.json()["code"] == "file_too_large"


@pytest.mark.parametrize("side", [10_000, 14_000])  # over Pillow's limit; over twice the limit
def test_a_decompression_bomb_is_refused(client, chat, media, side):
    bomb = f.png_bomb(side, 9_000 if side == 10_000 else side)
    assert len(bomb) < 100_000  # kilobytes that would decode to about 90 or 196 million pixels
    if side == 10_000:
        with pytest.warns(Image.DecompressionBombWarning):
            answer = send(client, chat, f.upload("bomba.png", bomb))
    else:
        answer = send(client, chat, f.upload("bomba.png", bomb))
    assert answer.status_code == 400
    assert answer.json()["code"] == "too_many_pixels" and "bomba.png" in answer.json()["error"]
    assert not ChatMessage.objects.exists() and stored_files(media) == []


def test_at_most_five_files_per_message_and_at_least_one(client, chat, media):
    six = [f.upload(f"{n}.png", f.png_bytes()) for n in range(6)]
    answer = send(client, chat, *six)
    assert answer.status_code == 400 and answer.json()["code"] == "too_many_files"
    answer = client.post(UPLOAD, {"content": "sem arquivo"}, HTTP_X_CHAT_SESSION=str(chat.session_id))
    assert answer.status_code == 400 and "files" in answer.json()["fields"]
    assert not ChatMessage.objects.exists() and stored_files(media) == []


def test_a_chat_takes_at_most_its_quota_of_customer_files(client, chat, media, settings, agent):
    settings.CHAT_ATTACHMENT_MAX_PER_CHAT = 2
    assert send(client, chat, f.upload("a.png", f.png_bytes())).status_code == 201
    answer = send(client, chat, f.upload("b.png", f.png_bytes()), f.upload("c.png", f.png_bytes()))
    assert answer.status_code == 400 and answer.json()["code"] == "file_quota"
    assert send(client, chat, f.upload("b.png", f.png_bytes())).status_code == 201
    assert ChatAttachment.objects.count() == 2 and len(stored_files(media)) == 4
    # The quota holds also when the check before the upload is passed by a concurrent one:
    # it is checked again with the chat locked, and the files stored for nothing are deleted.
    stored = services.attachments._prepare_and_store([f.upload("d.png", f.png_bytes())], customer_quota=True)
    with pytest.raises(Exception) as refused:
        services.customer_message_post(session_key=chat.session_id, content="", files=stored)
    stored.discard()
    assert refused.value.code == "file_quota"
    assert ChatMessage.objects.filter(session=chat).count() == 2 and len(stored_files(media)) == 4
    # Agents' files do not count.
    agent_answer = services.agent_files_post(
        session_pk=chat.pk, agent=agent, files=[f.upload("recibo.pdf", f.pdf_bytes())]
    )
    assert agent_answer.created


def test_the_session_key_comes_in_the_header_and_must_open_an_open_chat(client, chat, media):
    answer = client.post(UPLOAD, {"files": [f.upload("a.png", f.png_bytes())]})
    assert answer.status_code == 400 and "X-Chat-Session" in answer.json()["fields"]
    assert send(client, chat, f.upload("a.png", f.png_bytes()), key=str(uuid.uuid4())).status_code == 404
    services.session_end(session=chat, ended_by=ChatSession.EndedBy.CUSTOMER)
    answer = send(client, chat, f.upload("a.png", f.png_bytes()))
    assert answer.status_code == 409 and answer.json()["code"] == "session_ended"
    assert stored_files(media) == []


# --- a retried upload -------------------------------------------------------------------


def test_a_retried_upload_returns_the_first_message_and_keeps_one_copy(client, chat, media):
    client_id = str(uuid.uuid4())
    first = send(client, chat, f.upload("a.jpg", f.jpeg_with_gps()), client_id=client_id, content="foto")
    again = send(client, chat, f.upload("a.jpg", f.jpeg_with_gps()), client_id=client_id, content="foto")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert ChatMessage.objects.count() == 1 and ChatAttachment.objects.count() == 1
    assert len(stored_files(media)) == 2


def test_a_concurrent_retry_that_lost_deletes_what_it_stored(chat, media):
    """Both attempts passed the look-up before either stored its message: the unique
    client_id decides, and the loser's files leave the storage."""
    client_id = uuid.uuid4()
    winner = services.attachments._prepare_and_store([f.upload("a.png", f.png_bytes())])
    loser = services.attachments._prepare_and_store([f.upload("a.png", f.png_bytes())])
    services.customer_message_post(session_key=chat.session_id, content="", client_id=client_id, files=winner)
    result = services.attachments._post(
        loser,
        lambda: services.customer_message_post(
            session_key=chat.session_id, content="", client_id=client_id, files=loser
        ),
    )
    assert not result.created and len(result.payload["attachments"]) == 1
    assert ChatAttachment.objects.count() == 1 and len(stored_files(media)) == 2


# --- who may open a file ------------------------------------------------------------------


def test_only_the_chats_customer_and_staff_who_view_chats_open_a_file(client, chat, media, django_user_model):
    [item] = send(client, chat, f.upload("a.jpg", f.jpeg_with_gps())).json()["attachments"]
    other = services.session_open(customer_name="Beto")
    for url in (item["url"], item["thumbnail_url"]):
        assert Client(HTTP_X_CHAT_SESSION=str(chat.session_id)).get(url).status_code == 200
        assert Client(HTTP_X_CHAT_SESSION=str(other.session_id)).get(url).status_code == 404
        assert Client(HTTP_X_CHAT_SESSION="not-a-key").get(url).status_code == 404
        assert Client().get(url).status_code == 404
        assert Client().get(url).json()["code"] == "session_not_found"
        for username, groups, expected in (("clerk", (), 403), ("ana", ("Agentes",), 200)):
            staff = Client()
            staff.force_login(make_staff(django_user_model, username, *groups))
            assert staff.get(url).status_code == expected
            django_user_model.objects.filter(username=username).delete()
    assert Client().get("/api/chat/attachments/999999", **as_customer(chat)).status_code == 404


def test_files_of_an_internal_note_never_reach_the_customer(client, chat, media, agent):
    note = services.agent_files_post(
        session_pk=chat.pk,
        agent=agent,
        files=[f.upload("interno.pdf", f.pdf_bytes())],
        caption="cópia do recibo",
        is_internal=True,
    )
    [item] = note.payload["attachments"]
    assert Client(**as_customer(chat)).get(item["url"]).status_code == 404
    staff = Client()
    staff.force_login(agent)
    assert staff.get(item["url"]).status_code == 200
    history = client.get("/api/chat/messages", **as_customer(chat)).json()["messages"]
    assert all(message["id"] != note.message.pk for message in history)


# --- agents -----------------------------------------------------------------------------------


def test_an_agent_sends_a_receipt_from_the_staff_api(chat, media, agent, django_user_model):
    staff = Client()
    staff.force_login(agent)
    url = f"/api/chat/sessions/{chat.pk}/attachments/"
    answer = staff.post(url, {"files": [f.upload("recibo.pdf", f.pdf_bytes())], "content": "Seu recibo"})
    assert answer.status_code == 201
    assert answer.json()["author"] == "agent" and answer.json()["agent_name"] == "Ana"
    chat.refresh_from_db()
    assert chat.status == ChatSession.Status.ACTIVE and chat.assigned_agent == agent  # a reply claims
    customer_view = Client(**as_customer(chat)).get("/api/chat/messages").json()["messages"]
    assert customer_view[-1]["attachments"][0]["name"] == "recibo.pdf"
    reader = make_staff(django_user_model, "leitor")
    from django.contrib.auth.models import Permission

    reader.user_permissions.add(Permission.objects.get(codename="view_chatsession"))
    read_only = Client()
    read_only.force_login(reader)
    refused = read_only.post(url, {"files": [f.upload("x.pdf", f.pdf_bytes())]})
    assert refused.status_code == 403
    assert ChatAttachment.objects.count() == 1 and len(stored_files(media)) == 1


# --- everywhere a message goes ------------------------------------------------------------


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(events, "_publish", lambda group, payload, *_: sent.append((group, payload)))
    return sent


def test_both_sides_get_the_files_live_in_the_answers_shape(
    client, chat, media, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = send(client, chat, f.upload("a.jpg", f.jpeg_with_gps()), content="olha")
    messages = [event for group, event in published if event.get("type") == "message"]
    assert messages and all(event["message"] == answer.json() for event in messages)
    groups = {group for group, event in published if event.get("type") == "message"}
    assert events.session_group(chat.pk) in groups and events.AGENTS_GROUP in groups
    [item] = messages[0]["message"]["attachments"]
    assert item["thumbnail_url"] and item["name"] == "a.jpg" and item["size"] > 0


def test_lists_read_every_messages_files_in_one_query(client, chat, media):
    def history_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/chat/messages", **as_customer(chat)).status_code == 200
        return len(captured)

    send(client, chat, f.upload("a.png", f.png_bytes()))
    few = history_queries()
    for n in range(4):
        send(client, chat, f.upload(f"{n}.png", f.png_bytes()), f.upload(f"{n}.pdf", f.pdf_bytes()))
    assert history_queries() == few
    assert len(client.get("/api/chat/messages", **as_customer(chat)).json()["messages"]) == 5


def test_a_text_message_costs_no_query_for_files(chat):
    """The most frequent write stays as it was: no look-up of files it cannot have."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.customer_message_post(session_key=chat.session_id, content="primeira")  # the wait starts
    with CaptureQueriesContext(connection) as captured:
        result = services.customer_message_post(session_key=chat.session_id, content="segunda")
    assert result.payload["attachments"] == []
    assert not any("chat_chatattachment" in query["sql"] for query in captured.captured_queries)


def test_the_admin_transcript_lists_the_file_names(client, chat, media, agent):
    send(client, chat, f.upload("caixa.jpg", f.jpeg_with_gps()), content="chegou assim")
    staff = Client()
    staff.force_login(agent)
    text = staff.get(f"/admin/chat/chatsession/{chat.pk}/transcript.txt").content.decode()
    assert "chegou assim" in text and "caixa.jpg" in text


# --- retention -------------------------------------------------------------------------------


def test_anonymizing_messages_deletes_the_files_after_commit(
    client, chat, media, django_capture_on_commit_callbacks
):
    [item] = send(client, chat, f.upload("rg.jpg", f.jpeg_with_gps())).json()["attachments"]
    kept = services.session_open()
    send(client, kept, f.upload("ok.pdf", f.pdf_bytes()))
    services.session_end(session=chat, ended_by=ChatSession.EndedBy.CUSTOMER)
    ChatSession.objects.filter(pk=chat.pk).update(ended_at=timezone.now() - timezone.timedelta(days=200))
    assert len(stored_files(media)) == 3

    with django_capture_on_commit_callbacks(execute=True):
        call_command("anonymize_sessions", "--messages", stdout=io.StringIO())

    assert len(stored_files(media)) == 1  # only the open chat's PDF is left
    row = ChatAttachment.objects.get(pk=item["id"])
    assert row.name == "" and row.is_removed and row.size > 0  # the metrics still count it
    assert payloads.attachment(row)["url"] is None
    staff_view = ChatMessage.objects.get(pk=row.message_id)
    assert payloads.message(staff_view)["attachments"][0]["thumbnail_url"] is None
    assert Client(**as_customer(chat)).get(item["url"]).status_code == 404


def test_deleting_a_chat_deletes_its_files(client, chat, media, django_capture_on_commit_callbacks):
    send(client, chat, f.upload("a.jpg", f.jpeg_with_gps()), f.upload("b.pdf", f.pdf_bytes()))
    assert len(stored_files(media)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        ChatSession.objects.filter(pk=chat.pk).delete()
    assert stored_files(media) == [] and not ChatAttachment.objects.exists()


# --- metrics and exports -----------------------------------------------------------------------


def test_the_metrics_count_chats_with_files_and_the_csv_their_files(client, media, agent, manager):
    import csv

    from chat.analytics.daily import compute_daily_metrics

    with_photos = services.session_open(customer_name="Com fotos")
    send(client, with_photos, f.upload("a.jpg", f.jpeg_with_gps()), f.upload("b.pdf", f.pdf_bytes()))
    services.agent_files_post(
        session_pk=with_photos.pk, agent=agent, files=[f.upload("r.pdf", f.pdf_bytes())]
    )
    only_a_note = services.session_open(customer_name="Só nota")
    services.agent_files_post(
        session_pk=only_a_note.pk, agent=agent, files=[f.upload("n.pdf", f.pdf_bytes())], is_internal=True
    )
    services.session_open(customer_name="Sem arquivos")

    day = compute_daily_metrics(timezone.localdate())
    assert day.total_sessions == 3 and day.chats_with_attachments == 1  # a note's file is not shown to both

    exporter = Client()
    exporter.force_login(manager)
    today = timezone.localdate().isoformat()
    response = exporter.get(
        "/admin/chat/chatanalytics/export/conversations.csv", {"from": today, "to": today}
    )
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    files_column = header.index("Arquivos")
    counts = {row[header.index("Nome do cliente")]: row[files_column] for row in rows}
    assert counts == {"Com fotos": "3", "Só nota": "0", "Sem arquivos": "0"}
    daily = exporter.get("/admin/chat/chatanalytics/export/daily.csv", {"from": today, "to": today})
    daily_header, daily_row = list(
        csv.reader(io.StringIO(b"".join(daily.streaming_content).decode("utf-8-sig")), delimiter=";")
    )
    assert daily_row[daily_header.index("Conversas com arquivos")] == "1"


# --- the schema, the admin page, the rate limits ----------------------------------------------


def test_the_schema_describes_the_uploads_and_the_attachment_shape(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in ("/api/chat/attachments", "/api/chat/sessions/{id}/attachments/"):
        operation = schema["paths"][path]["post"]
        assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
        reference = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        body = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
        one, several = body["properties"]["files"]["oneOf"]  # one part, or the field repeated
        assert one == several["items"] == {"type": "string", "format": "binary"}
        assert several["maxItems"] == 5 and "files" in body["required"]
        assert {"200", "201", "400", "404", "409", "413", "415"} <= set(operation["responses"])
    upload = schema["paths"]["/api/chat/attachments"]["post"]
    header = next(p for p in upload["parameters"] if p["name"] == "X-Chat-Session")
    assert header["in"] == "header" and header["required"] is True
    shape = schema["components"]["schemas"]["Attachment"]["properties"]
    assert set(shape) == set(payloads.attachment(ChatAttachment(pk=1, size=1, file="x")))
    message = schema["components"]["schemas"]["Message"]["properties"]["attachments"]
    assert message["items"]["$ref"].endswith("/Attachment")
    served = schema["paths"]["/api/chat/attachments/{id}"]["get"]["responses"]
    assert set(served["200"]["content"]) == {"image/jpeg", "image/png", "image/webp", "application/pdf"}
    assert {"302", "403", "404"} <= set(served)


def test_the_conversation_page_draws_thumbnails_and_offers_files(client, chat, media, agent):
    [item] = send(client, chat, f.upload("caixa.jpg", f.jpeg_with_gps())).json()["attachments"]
    staff = Client()
    staff.force_login(agent)
    page = staff.get(f"/admin/chat/chatsession/{chat.pk}/change/").content.decode()
    assert f'<img class="msg-thumbnail" src="{item["thumbnail_url"]}" alt="caixa.jpg"' in page
    assert f'href="{item["url"]}" target="_blank"' in page
    assert 'id="reply-files"' in page and "image/jpeg" in page
    assert "chat/admin/attachments.css" in page


def test_uploads_count_against_the_message_rate_limits(client, chat, media, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CHAT_THROTTLE_RATES = {"message_ip": None, "message_session": "2/min"}
    message = {"session_id": str(chat.session_id), "content": "Oi"}
    assert client.post("/api/chat/message", message, content_type="application/json").status_code == 201
    assert send(client, chat, f.upload("a.png", f.png_bytes())).status_code == 201
    refused = send(client, chat, f.upload("b.png", f.png_bytes()))
    assert refused.status_code == 429 and refused.has_header("Retry-After")
    assert ChatAttachment.objects.count() == 1
    cache.clear()


def test_the_inbox_shows_a_message_of_files_only_as_such(client, chat, media, agent):
    send(client, chat, f.upload("caixa.jpg", f.jpeg_with_gps()))
    staff = Client()
    staff.force_login(agent)
    inbox = staff.get("/admin/chat/chatsession/").content.decode()
    assert "📎 Foto ou documento" in inbox
