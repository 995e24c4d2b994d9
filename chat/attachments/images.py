"""Images made safe to keep and to show: opened by Pillow as the format their bytes claim,
refused past Pillow's decompression-bomb limit, turned upright (EXIF orientation applied),
re-encoded without metadata (EXIF and its GPS position, XMP, comments: LGPD), and a small
JPEG thumbnail made.

A photo is kept at most CHAT_IMAGE_MAX_SIDE pixels on its long side (2,048 by default, as
messaging apps keep them: a label and a dent stay readable). A JPEG larger than that is
decoded at the DCT scale (1/2, 1/4, 1/8) that brings it under the limit, which is four times
less work and memory for a 12-megapixel phone photo; other formats are decoded whole and
made smaller.

Re-encoding is also what makes a polyglot harmless: the stored bytes are Pillow's output,
so whatever else the upload carried (HTML in a JPEG comment, a script after the image
data) is not in them. Only the colour profile is kept: it holds no personal data and keeps
a phone's colours right.

Memory: the upload is read by the decoder from where Django put it (memory below
FILE_UPLOAD_MAX_MEMORY_SIZE, a temporary file above), the pixels are decoded once, and the
output is written to a temporary file that stays in memory only while it is small.
"""

import tempfile
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from chat.exceptions import InvalidFile, TooManyPixels

from .content import HEIF, JPEG, PNG, WEBP, Format

try:  # HEIC (iPhone photos): read through pillow-heif when it is installed (README, Dependencies)
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_OPENER = True
except ImportError:  # pragma: no cover (installed by requirements.txt)
    HEIF_OPENER = False

THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80
OUTPUT = {JPEG.key: JPEG, PNG.key: PNG, WEBP.key: WEBP, HEIF.key: JPEG}  # browsers cannot show HEIC


@dataclass
class Reencoded:
    format: Format
    width: int
    height: int
    file: tempfile.SpooledTemporaryFile
    thumbnail: tempfile.SpooledTemporaryFile


def spooled():
    return tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)


# One image decoded at a time per process: a phone's 12-megapixel JPEG, decoded at half scale,
# takes about 22 MB at its peak (bench/attachments_bench.py), but a PNG or HEIC of as many
# pixels is decoded whole (about 95 MB: its pixels, and again while it is turned upright), so
# the threads of a worker queue here rather than add up (Render's starter instance has 512 MB
# for two workers of four threads).
DECODING = threading.BoundedSemaphore(1)


def reencode(upload, detected: Format, *, display_name: str) -> Reencoded:
    """The upload (a file object) re-encoded as ``detected`` says, or a FileError."""
    with DECODING:
        return _reencode(upload, detected, display_name)


def _reencode(upload, detected: Format, display_name: str) -> Reencoded:
    upload.seek(0)
    try:
        image = Image.open(upload, formats=[detected.key])
    except Image.DecompressionBombError as exc:  # over twice the limit: refused by open()
        raise too_many_pixels(display_name) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise unreadable(display_name, detected) from exc
    with image:
        if image.width * image.height > Image.MAX_IMAGE_PIXELS:
            raise too_many_pixels(display_name)
        try:
            if detected is JPEG:
                image.draft(None, _draft_size(image.size, settings.CHAT_IMAGE_MAX_SIDE))
            image.load()  # decodes the pixels, once
            if max(image.size) > settings.CHAT_IMAGE_MAX_SIDE:  # in place, before turning it
                image.thumbnail((settings.CHAT_IMAGE_MAX_SIDE,) * 2, Image.Resampling.BICUBIC, 2.0)
            # In place: an upright photo is not copied; a sideways one frees its first pixels.
            ImageOps.exif_transpose(image, in_place=True)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise unreadable(display_name, detected) from exc
        icc_profile = image.info.get("icc_profile")
        image.info = {}  # EXIF (GPS, camera, dates), XMP, comments, text chunks: none kept
        return _encode(image, OUTPUT[detected.key], icc_profile)


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size to ask a JPEG's decoder for: the smallest DCT scale whose long side fits in
    ``max_side`` (the whole picture when it fits already or no scale does)."""
    if max(size) <= max_side:
        return size
    for scale in (2, 4, 8):
        if max(size) / scale <= max_side:
            return (-(-size[0] // scale), -(-size[1] // scale))
    return (-(-size[0] // 8), -(-size[1] // 8))


def _encode(upright: Image.Image, target: Format, icc_profile) -> Reencoded:
    upright = _for_format(upright, target)
    out = spooled()
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if target is JPEG:
        upright.save(out, "JPEG", quality=JPEG_QUALITY, **options)
    elif target is WEBP:
        upright.save(out, "WEBP", quality=JPEG_QUALITY, method=4, **options)
    else:
        upright.save(out, "PNG", **options)
    thumbnail = _thumbnail(upright)
    out.seek(0)
    return Reencoded(target, upright.width, upright.height, out, thumbnail)


def _for_format(image: Image.Image, target: Format) -> Image.Image:
    if target is JPEG and image.mode not in ("RGB", "L"):
        return _flatten(image)
    if target is WEBP and image.mode not in ("RGB", "RGBA"):
        return image.convert("RGBA" if _has_alpha(image) else "RGB")
    if target is PNG and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        return image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, transparent parts on white (a JPEG has no transparency)."""
    if not _has_alpha(image):
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _thumbnail(image: Image.Image) -> tempfile.SpooledTemporaryFile:
    scale = min(THUMBNAIL_SIDE / image.width, THUMBNAIL_SIDE / image.height, 1.0)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    out = spooled()
    _flatten(small).save(out, "JPEG", quality=THUMBNAIL_QUALITY)
    out.seek(0)
    return out


def too_many_pixels(name: str) -> TooManyPixels:
    return TooManyPixels(
        _("“%(name)s” has too many pixels to be opened safely (at most %(millions)d million).")
        % {"name": name, "millions": Image.MAX_IMAGE_PIXELS // 1_000_000},
        name=name,
    )


def unreadable(name: str, detected: Format) -> InvalidFile:
    return InvalidFile(
        _("“%(name)s” could not be read as a %(format)s image: it may be damaged.")
        % {"name": name, "format": detected.label},
        name=name,
    )
