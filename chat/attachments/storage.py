"""Where attachments are kept: the ``attachments`` alias of Django's STORAGES (the
filesystem under MEDIA_ROOT by default, an S3-compatible bucket when configured: see
jtchat/settings.py). Looked up on every use, so a deploy's or a test's STORAGES applies.

Stored names are random (``attachments/2026/05/<32 hex>.jpg``): the sender's file name never
reaches the storage, so it can neither collide, nor climb out of its folder, nor be guessed.
Deletion happens after the transaction that forgot the files commits: a rolled-back change
never loses a file that a row still names.
"""

import logging
import uuid

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

ALIAS = "attachments"
SIGNED_URL_SECONDS = 60


def attachment_storage() -> Storage:
    return storages[ALIAS]


def new_name(extension: str, *, thumbnail: bool = False) -> str:
    today = timezone.now()
    suffix = "-thumb" if thumbnail else ""
    return f"attachments/{today:%Y/%m}/{uuid.uuid4().hex}{suffix}.{extension}"


def save(content, extension: str, *, thumbnail: bool = False) -> str:
    """Store ``content`` (a file object) under a new random name; the name it got."""
    return attachment_storage().save(new_name(extension, thumbnail=thumbnail), File(content))


def delete_now(names) -> None:
    """Remove stored files; a file already gone is not an error."""
    storage = attachment_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:  # noqa: BLE001 (one file a storage failed to delete must not stop the rest)
            logger.warning("attachment file not deleted", exc_info=True)


def delete_on_commit(names) -> None:
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: delete_now(names))


def signed_url(name: str, *, content_type: str, disposition: str) -> str | None:
    """A short-lived URL of the file itself when the storage signs its URLs (S3-compatible
    buckets through django-storages), with the type and disposition the answer must carry;
    None for a storage whose files are served by the app (the filesystem)."""
    storage = attachment_storage()
    if not getattr(storage, "querystring_auth", False):
        return None
    return storage.url(
        name,
        parameters={"ResponseContentType": content_type, "ResponseContentDisposition": disposition},
        expire=SIGNED_URL_SECONDS,
    )


def files_of_deleted_attachment(sender, instance, **kwargs) -> None:
    """``post_delete`` of ChatAttachment: its files go once the deletion commits.

    A receiver rather than a service, because rows go by cascade too (a chat deleted from
    the shell, a message deleted with it) and Django leaves the files of deleted rows behind;
    this is housekeeping of the storage, not a change of the chat's state.
    """
    delete_on_commit([instance.file, instance.thumbnail])
