"""Real files made in the tests: photos with GPS EXIF and an orientation tag, a PNG, a PDF,
a WebP, a HEIC, a JPEG/HTML polyglot, an SVG with a script, a decompression bomb."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE, MODEL = 0x010F, 0x0110


def photo(size=(640, 480), color=(180, 120, 60)) -> Image.Image:
    """A picture with some structure (a red block top left, a blue one bottom right)."""
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((0, 0, width // 4, height // 4), fill=(230, 20, 20))
    draw.rectangle((width * 3 // 4, height * 3 // 4, width, height), fill=(20, 20, 230))
    return image


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "Google"
    exif[MODEL] = "Pixel 7 Secreto"
    if orientation:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "S"
    gps[2] = (23.0, 33.0, 1.0)
    gps[3] = "W"
    gps[4] = (46.0, 37.0, 59.0)
    return exif


def jpeg_bytes(image=None, **options) -> bytes:
    out = io.BytesIO()
    (image or photo()).save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    return jpeg_bytes(exif=exif_with_gps().tobytes(), comment=b"taken at home")


def rotated_phone_photo() -> bytes:
    """Pixels stored sideways (640 x 480) with Orientation 6: shown upright, it is 480 x 640
    with the red block top right."""
    return jpeg_bytes(photo((640, 480)), exif=exif_with_gps(orientation=6).tobytes())


def png_of(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_bytes() -> bytes:
    image = photo((300, 200)).convert("RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Maria da Silva, Rua das Flores 10")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif_with_gps().tobytes())
    return out.getvalue()


def webp_bytes() -> bytes:
    out = io.BytesIO()
    photo((320, 240)).save(out, "WEBP", quality=80, exif=exif_with_gps().tobytes())
    return out.getvalue()


def heic_bytes() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    photo((400, 300)).save(out, "HEIF", quality=70, exif=exif_with_gps().tobytes())
    return out.getvalue()


def pdf_bytes() -> bytes:
    """A real one-page PDF (Pillow writes it)."""
    out = io.BytesIO()
    photo((200, 100)).save(out, "PDF", resolution=72.0)
    return out.getvalue()


POLYGLOT_HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def jpeg_html_polyglot() -> bytes:
    """A valid JPEG that is also an HTML page: markup in its comment and after its end."""
    return jpeg_bytes(comment=POLYGLOT_HTML) + POLYGLOT_HTML


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels: a few kilobytes that would
    decode to width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    compressed = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compressed) + chunk(b"IEND", b"")


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
