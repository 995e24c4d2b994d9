"""LGPD retention: blank the personal data of chats ended more than N days ago."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chat.exceptions import InvalidInput
from chat.services import job_run, sessions_anonymize


class Command(BaseCommand):
    help = (
        "Blank IP, user agent, name, e-mail, tracking code and comment of chats that ended more "
        "than N days ago (default: CHAT_RETENTION_DAYS); --messages also blanks message text and "
        "deletes the files sent in them. "
        "Metrics are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="Age in days of the chats' end (default: the CHAT_RETENTION_DAYS setting).",
        )
        parser.add_argument(
            "--messages",
            action="store_true",
            help="Also replace the text of their messages and delete their files.",
        )

    @job_run(command="anonymize_sessions")  # its last success, for /metrics
    def handle(self, *args, **options):
        days = options["older_than_days"]
        if days is None:
            days = settings.CHAT_RETENTION_DAYS
        try:
            result = sessions_anonymize(older_than_days=days, include_messages=options["messages"])
        except InvalidInput as exc:
            raise CommandError(f"--older-than-days must be 1 or more (got {days}).") from exc
        summary = f"Anonymized {result.sessions} chat(s) ended more than {days} day(s) ago"
        if options["messages"]:
            summary += f" and {result.messages} message(s), deleting {result.files} file(s)"
        self.stdout.write(summary + ".")
