"""Attachments in S3-compatible object storage: the same API, against moto's standalone
server in its own process, over real HTTP (django-storages and boto3 as in production).

Objects are private: staff are sent to a 60-second signed URL carrying the stored type and
the disposition; a customer's request, whose key must not follow a redirect to another
host, is answered by the app; deleting a chat deletes its objects.
"""

import subprocess
import sys

import httpx
import pytest
from django.test import Client

from chat import services
from chat.models import ChatSession
from jtchat.testing import free_port, wait_for_port

from . import files

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

BUCKET = "jtchat-anexos"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's S3-compatible server (moto[server]) on a free port of this machine."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    try:
        wait_for_port(port, timeout=30, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def bucket(s3_endpoint, settings):
    import boto3

    options = {
        "bucket_name": BUCKET,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "access_key": "jtchat-test",
        "secret_key": "jtchat-test-secret",
        "addressing_style": "path",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        "signature_version": "s3v4",
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="jtchat-test",
        aws_secret_access_key="jtchat-test-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def objects(bucket) -> dict:
    return {item["Key"]: item for item in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_files_go_to_the_bucket_and_come_back_by_signed_urls(
    bucket, s3_endpoint, agent, django_capture_on_commit_callbacks
):
    chat = services.session_open(customer_name="Maria")
    key = str(chat.session_id)
    original_pdf = files.pdf_bytes()
    answer = Client().post(
        "/api/chat/attachments",
        {
            "files": [
                files.upload("caixa.jpg", files.jpeg_with_gps()),
                files.upload("nota.pdf", original_pdf),
            ]
        },
        HTTP_X_CHAT_SESSION=key,
    )
    assert answer.status_code == 201
    photo, document = answer.json()["attachments"]
    stored = objects(bucket)
    assert len(stored) == 3  # the photo, its thumbnail, the PDF
    photo_key = next(name for name in stored if name.endswith(".jpg") and "-thumb" not in name)
    head = bucket.head_object(Bucket=BUCKET, Key=photo_key)
    assert head["ContentType"] == "image/jpeg"
    kept = bucket.get_object(Bucket=BUCKET, Key=photo_key)["Body"].read()
    assert b"Pixel 7 Secreto" not in kept  # re-encoded before it left the app

    staff = Client()
    staff.force_login(agent)
    redirect = staff.get(photo["url"])
    assert redirect.status_code == 302 and redirect["Cache-Control"] == "no-store"
    signed = redirect["Location"]
    assert signed.startswith(f"{s3_endpoint}/{BUCKET}/attachments/")
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=60" in signed
    fetched = httpx.get(signed)
    assert fetched.status_code == 200 and fetched.content == kept
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["content-disposition"] == 'inline; filename="caixa.jpg"'
    # (moto does not check signatures unless its IAM is set up: the bucket's own check is AWS's.)

    thumbnail = httpx.get(staff.get(photo["thumbnail_url"])["Location"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    pdf = httpx.get(staff.get(document["url"])["Location"])
    assert pdf.status_code == 200 and pdf.content == original_pdf
    assert pdf.headers["content-disposition"] == 'attachment; filename="nota.pdf"'

    # The customer's key never leaves the app: its request is answered here, not redirected.
    mine = Client(HTTP_X_CHAT_SESSION=key).get(photo["url"])
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == kept
    assert mine["X-Content-Type-Options"] == "nosniff"
    assert Client().get(photo["url"]).status_code == 404
    other = services.session_open()
    assert Client(HTTP_X_CHAT_SESSION=str(other.session_id)).get(photo["url"]).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        ChatSession.objects.filter(pk=chat.pk).delete()
    assert objects(bucket) == {}


def test_an_oversized_file_leaves_nothing_in_the_bucket(bucket, settings):
    settings.CHAT_ATTACHMENT_MAX_BYTES = 5_000
    chat = services.session_open()
    answer = Client().post(
        "/api/chat/attachments",
        {"files": [files.upload("grande.jpg", files.jpeg_bytes(files.photo((900, 900))))]},
        HTTP_X_CHAT_SESSION=str(chat.session_id),
    )
    assert answer.status_code == 413 and objects(bucket) == {}
