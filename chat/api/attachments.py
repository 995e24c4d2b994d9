"""Files in the API: sending them (customers and agents, multipart) and the one view that
serves them.

Uploads are read through the limits of chat/attachments/limits.py, installed before anything
reads the body: a file over CHAT_ATTACHMENT_MAX_BYTES is refused (413) at the chunk that
crosses the limit, a sixth file at its first byte, and the bytes go to memory or to a
temporary file as Django's own upload handlers decide (never whole into memory twice).

The file view answers only who may open the file: the holder of its chat's key, sent in the
``X-Chat-Session`` header (never a file of an internal note), or staff who may view chats. Anyone
else gets 404, as for a file that does not exist. The answer is inert whatever the bytes:
the stored type, ``X-Content-Type-Options: nosniff``, ``Content-Disposition`` (PDFs always
as a download) and a sandboxing Content-Security-Policy. With object storage, staff are sent
to a 60-second signed URL of the bucket; a customer's request, which carries the chat's
secret in a header that must not follow a redirect to another host, is answered by the app.
"""

from django.http import FileResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import policy, selectors, services
from chat.attachments import limits
from chat.attachments import storage as attachment_storage
from chat.exceptions import InvalidInput, SessionNotFound
from chat.models import ChatAttachment
from jtchat.api_query import DeclaredQuery

from . import serializers as s
from .permissions import requires
from .throttles import MessageIPThrottle, UploadSessionThrottle
from .views import SESSION_HEADER, errors

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
REQUIRED_SESSION_HEADER = OpenApiParameter(
    "X-Chat-Session",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=True,
    description="The customer's session key (uploads take it in this header only).",
)
OPTIONAL_SESSION_HEADER = OpenApiParameter(
    "X-Chat-Session",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    description="The customer's session key; staff are recognised by their session login instead.",
)
UPLOAD_ERRORS = errors(400, 403, 404, 409, 413, 415, 429)
UPLOAD_DESCRIPTION = (
    "multipart/form-data: `files` (1–5 JPEG, PNG, WebP, HEIC or PDF files, each at most "
    "CHAT_ATTACHMENT_MAX_BYTES), an optional caption in `content`, an optional `client_id`. "
    "Typed by content: anything else is 415. Images are stored re-encoded, upright, without "
    "metadata (HEIC as JPEG), with a thumbnail."
)


class UploadView(DeclaredQuery, APIView):
    """A view that takes files: the limits come first among the upload handlers."""

    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        limits.install(request)
        return super().initialize_request(request, *args, **kwargs)

    @staticmethod
    def answer(result) -> Response:
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(result.payload, status=code)


@extend_schema(tags=["customer"])
class CustomerUploadView(UploadView):
    """``POST /api/chat/attachments``: the customer sends files (and a caption) as a message."""

    permission_classes = [AllowAny]
    throttle_classes = [MessageIPThrottle, UploadSessionThrottle]

    @extend_schema(
        request=s.FilesUploadSerializer,
        parameters=[REQUIRED_SESSION_HEADER],
        responses={
            201: s.MessageSerializer,
            200: OpenApiResponse(s.MessageSerializer, description="A retried client_id: the first message"),
            **UPLOAD_ERRORS,
        },
        summary="Send files (photos, PDFs) with an optional caption",
        description=UPLOAD_DESCRIPTION,
    )
    def post(self, request):
        key = request.META.get(SESSION_HEADER)
        if not key:
            raise InvalidInput(
                fields={"X-Chat-Session": [_("Send the chat's key in the X-Chat-Session header.")]}
            )
        selectors.customer_session(key)  # an unknown chat is refused before the upload is read
        serializer = s.FilesUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.customer_files_post(
            session_key=key,
            files=data["files"],
            caption=data.get("content", ""),
            client_id=data.get("client_id"),
        )
        return self.answer(result)


@extend_schema(tags=["staff"])
class StaffUploadView(UploadView):
    """``POST /api/chat/sessions/{id}/attachments/``: an agent sends files (reply or note)."""

    permission_classes = [requires(policy.VIEW_CHATS)]

    @extend_schema(
        request=s.StaffFilesUploadSerializer,
        responses={201: s.MessageSerializer, 200: s.MessageSerializer, **UPLOAD_ERRORS},
        summary="Reply (or write an internal note) with files",
        description=UPLOAD_DESCRIPTION,
    )
    def post(self, request, pk):
        serializer = s.StaffFilesUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.agent_files_post(
            session_pk=pk,
            agent=request.user,
            files=data["files"],
            caption=data.get("content", ""),
            client_id=data.get("client_id"),
            is_internal=data["is_internal"],
        )
        return self.answer(result)


FILE_RESPONSES = {
    (200, "image/jpeg"): OpenApiTypes.BINARY,
    (200, "image/png"): OpenApiTypes.BINARY,
    (200, "image/webp"): OpenApiTypes.BINARY,
    (200, "application/pdf"): OpenApiTypes.BINARY,
    302: OpenApiResponse(description="Staff, with object storage: to a 60-second signed URL of the file"),
    **errors(403, 404),
}


@extend_schema(tags=["customer"])
class AttachmentFileView(DeclaredQuery, APIView):
    """``GET /api/chat/attachments/{id}`` (and ``…/thumbnail``): the file, for who may open it."""

    permission_classes = [AllowAny]
    thumbnail = False

    @extend_schema(
        parameters=[OPTIONAL_SESSION_HEADER],
        responses=FILE_RESPONSES,
        summary="A file sent in a chat (its thumbnail: …/thumbnail, always JPEG)",
    )
    def get(self, request, pk):
        key = request.META.get(SESSION_HEADER)
        if key is not None:  # a customer's call, even with an empty or malformed key (400)
            attachment = selectors.attachment_for_customer(key, pk)
        elif policy.is_staff_member(request.user):
            attachment = selectors.attachment_for_staff(request.user, pk)
        else:
            raise SessionNotFound()
        return file_answer(attachment, thumbnail=self.thumbnail, redirect=key is None)


class AttachmentThumbnailView(AttachmentFileView):
    thumbnail = True


def file_answer(attachment: ChatAttachment, *, thumbnail: bool, redirect: bool):
    name = attachment.thumbnail if thumbnail else attachment.file
    if not name:  # removed (retention), or a document (no thumbnail)
        raise SessionNotFound(_("File not found."))
    content_type = "image/jpeg" if thumbnail else attachment.content_type
    download = attachment.kind == ChatAttachment.Kind.DOCUMENT and not thumbnail
    disposition = content_disposition_header(download, attachment.name or name.rsplit("/", 1)[-1])
    if redirect:
        url = attachment_storage.signed_url(name, content_type=content_type, disposition=disposition)
        if url is not None:
            response = HttpResponseRedirect(url)
            response["Cache-Control"] = "no-store"
            return response
    try:
        handle = attachment_storage.attachment_storage().open(name, "rb")
    except FileNotFoundError as exc:
        raise SessionNotFound(_("File not found.")) from exc
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=300"
    response["Vary"] = "Cookie, X-Chat-Session"
    return response
