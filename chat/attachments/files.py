"""A sent file checked and prepared for keeping: typed by its content, images re-encoded
(images.py), PDFs checked to look like one. Nothing is stored here (storage.py does)."""

import os
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from chat.exceptions import FileTooLarge, InvalidFile, TooManyFiles, UnsupportedFile

from . import images
from .content import HEAD_BYTES, PDF, Format, accepted_formats_text, sniff

NAME_MAX = 120
PDF_TAIL_BYTES = 2048


@dataclass
class PreparedFile:
    """One file ready to be stored: what the attachment row says, and the bytes to keep."""

    format: Format
    name: str  # to show; never used as a storage name
    size: int
    content: object  # a file object at its start
    thumbnail: object | None = None
    width: int | None = None
    height: int | None = None

    def row_fields(self) -> dict:
        return {
            "kind": self.format.kind,
            "content_type": self.format.content_type,
            "name": self.name,
            "size": self.size,
            "width": self.width,
            "height": self.height,
        }

    def close(self) -> None:
        for handle in (self.content, self.thumbnail):
            if handle is not None:
                handle.close()


def display_name(raw: str, extension: str) -> str:
    """The sender's file name, cleaned for showing (no path, no control characters, not too
    long) and ending with the extension of what is stored."""
    name = unicodedata.normalize("NFC", os.path.basename((raw or "").replace("\\", "/")))
    name = "".join(char for char in name if char.isprintable() and char not in '"<>').strip(" .")
    stem = os.path.splitext(name)[0].strip(" .") or _("file")
    return f"{stem[: NAME_MAX - len(extension) - 1]}.{extension}"


def check_count(count: int) -> None:
    if count < 1:
        raise TooManyFiles(_("Attach at least one file."))
    limit = settings.CHAT_ATTACHMENT_MAX_PER_MESSAGE
    if count > limit:
        raise TooManyFiles(_("At most %(max)d files per message.") % {"max": limit})


def too_large(name: str = "") -> FileTooLarge:
    limit = filesizeformat(settings.CHAT_ATTACHMENT_MAX_BYTES)
    if name:
        text = _("“%(name)s” is too large: each file may have at most %(max)s.") % {
            "name": name,
            "max": limit,
        }
    else:
        text = _("Each file may have at most %(max)s.") % {"max": limit}
    return FileTooLarge(text, name=name)


def prepare(upload) -> PreparedFile:
    """Check and prepare one uploaded file (a Django UploadedFile), or raise a FileError."""
    raw_name = upload.name or ""
    if upload.size > settings.CHAT_ATTACHMENT_MAX_BYTES:
        raise too_large(display_name(raw_name, os.path.splitext(raw_name)[1].lstrip(".") or "bin"))
    upload.seek(0)
    detected = sniff(upload.read(HEAD_BYTES))
    shown = os.path.basename(raw_name.replace("\\", "/"))[:NAME_MAX] or _("file")
    if detected is None:
        raise UnsupportedFile(
            _("“%(name)s” is not a file we accept. Send %(formats)s.")
            % {"name": shown, "formats": accepted_formats_text()},
            name=shown,
        )
    if detected is PDF:
        _check_pdf(upload, shown)
        upload.seek(0)
        return PreparedFile(PDF, display_name(raw_name, PDF.extension), upload.size, upload)
    result = images.reencode(upload, detected, display_name=shown)
    result.file.seek(0, os.SEEK_END)
    size = result.file.tell()
    result.file.seek(0)
    return PreparedFile(
        result.format,
        display_name(raw_name, result.format.extension),
        size,
        result.file,
        thumbnail=result.thumbnail,
        width=result.width,
        height=result.height,
    )


def _check_pdf(upload, shown: str) -> None:
    """A PDF ends with %%EOF (some writers add a line break or a few bytes after it)."""
    upload.seek(max(upload.size - PDF_TAIL_BYTES, 0))
    if b"%%EOF" not in upload.read(PDF_TAIL_BYTES):
        raise InvalidFile(
            _("“%(name)s” could not be read as a PDF document: it may be damaged.") % {"name": shown},
            name=shown,
        )
