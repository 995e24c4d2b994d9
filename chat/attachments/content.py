"""What a sent file is, decided by its first bytes, never by its name or the browser's type.

Only the formats below are accepted; anything else (SVG, HTML, GIF, executables, AVIF…) is
refused with a message naming what works. The magic bytes only pick the candidate: an image
must then open in Pillow as exactly that format (chat/attachments/images.py), and a PDF must
end like one.
"""

from dataclasses import dataclass

from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from chat.models import ChatAttachment

HEAD_BYTES = 32


@dataclass(frozen=True)
class Format:
    key: str  # Pillow's format name for images; "PDF"
    label: str  # as people know it
    kind: str  # ChatAttachment.Kind
    content_type: str  # what it is stored and served as
    extension: str  # of the stored file


JPEG = Format("JPEG", "JPEG", ChatAttachment.Kind.IMAGE, "image/jpeg", "jpg")
PNG = Format("PNG", "PNG", ChatAttachment.Kind.IMAGE, "image/png", "png")
WEBP = Format("WEBP", "WebP", ChatAttachment.Kind.IMAGE, "image/webp", "webp")
HEIF = Format("HEIF", "HEIC", ChatAttachment.Kind.IMAGE, "image/heic", "heic")  # stored as JPEG
PDF = Format("PDF", "PDF", ChatAttachment.Kind.DOCUMENT, "application/pdf", "pdf")

# ISO base media "ftyp" brands of HEIF images (iPhone photos: heic, mif1 + heic).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}


def heif_supported() -> bool:
    """Whether Pillow can read HEIC here (pillow-heif installed: chat/attachments/images.py)."""
    from .images import HEIF_OPENER

    return HEIF_OPENER


def sniff(head: bytes) -> Format | None:
    """The accepted format these first bytes start, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp" and heif_supported():
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)), 4)}
        if head[8:12] in HEIF_BRANDS and not brands & AVIF_BRANDS:
            return HEIF
    return None


def accepted_formats_text() -> str:
    """ "JPEG, PNG, WebP or HEIC photos, or PDF documents", as the refusal says it."""
    photos = [JPEG.label, PNG.label, WEBP.label] + ([HEIF.label] if heif_supported() else [])
    return _("%(photos)s photos, or PDF documents") % {"photos": get_text_list(photos, _("or"))}


def accepted_content_types() -> list[str]:
    """The media types of the files taken (the schema's upload encoding says them)."""
    formats = [JPEG, PNG, WEBP] + ([HEIF] if heif_supported() else []) + [PDF]
    return [accepted.content_type for accepted in formats]


def browser_accept() -> str:
    """The file picker's ``accept``: types and extensions, for phones that know one or the other."""
    types = accepted_content_types() + (["image/heif"] if heif_supported() else [])
    extensions = [".jpg", ".jpeg", ".png", ".webp", ".pdf"]
    if heif_supported():
        extensions += [".heic", ".heif"]
    return ",".join(types + extensions)
