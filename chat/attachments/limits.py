"""Upload limits applied while the request body arrives, before anything keeps the bytes.

:class:`AttachmentLimits` goes first in the request's upload handlers (Django's own follow:
memory below FILE_UPLOAD_MAX_MEMORY_SIZE, a temporary file above). It refuses a body
declared larger than a message's files could be, a sixth file, and a file past
CHAT_ATTACHMENT_MAX_BYTES at the chunk that crosses the limit, closing (so deleting) what the
handlers after it had written. Views install it before anything reads the body:
:func:`install` (Django's "modifying upload handlers on the fly"; DRF's session
authentication reads the body for its CSRF check, through the same handlers).
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, load_handler

from .files import check_count, too_large

FIELDS_ALLOWANCE = 64 * 1024  # a caption, a client_id and the multipart framing


def max_body_bytes() -> int:
    return settings.CHAT_ATTACHMENT_MAX_PER_MESSAGE * settings.CHAT_ATTACHMENT_MAX_BYTES + FIELDS_ALLOWANCE


class AttachmentLimits(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.files = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > max_body_bytes():
            raise too_large()
        return None

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.files += 1
        if self.files > settings.CHAT_ATTACHMENT_MAX_PER_MESSAGE:
            self._discard()
            check_count(self.files)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.CHAT_ATTACHMENT_MAX_BYTES:
            self._discard()
            raise too_large(self.file_name or "")
        return raw_data

    def file_complete(self, file_size):
        return None

    def _discard(self) -> None:
        for handler in getattr(self.request, "upload_handlers", ()):
            partial = getattr(handler, "file", None)
            if partial is not None:
                partial.close()


def install(request) -> None:
    """Put the limits in front of Django's upload handlers on ``request`` (a Django
    HttpRequest), before its body is read."""
    request.upload_handlers = [AttachmentLimits(request)] + [
        load_handler(path, request) for path in settings.FILE_UPLOAD_HANDLERS
    ]
