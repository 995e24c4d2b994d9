"""Send the reply e-mails that are due (chat/services/emails.py): Render's cron runs it every
minute; ``--loop`` keeps it running (``make run`` does so beside the server)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from chat.services import job_run
from chat.services.emails import send_due_emails


class Command(BaseCommand):
    help = (
        "Send agents' replies by e-mail to customers who left the page (due after "
        "CHAT_EMAIL_AFTER_MINUTES), and retry those that failed. Safe to run in several places."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running, sending every SECONDS (1 or more) until stopped; default: once.",
        )

    @job_run(command="send_reply_emails")  # its last success, for /metrics
    def handle(self, *args, **options):
        every = options["loop"]
        if every < 0:
            raise CommandError(f"--loop must be 1 or more seconds, got {every}.")
        if not settings.CHAT_EMAIL_ENABLED:
            self.stdout.write("Reply e-mails are off: set EMAIL_URL (README, Settings).")
            return
        while True:
            result = send_due_emails()
            if not every or result.sent or result.failed:
                self.stdout.write(
                    f"Reply e-mails: {result.sent} sent, {result.failed} failed (retried later), "
                    f"{result.skipped} not needed."
                )
            if not every:
                return
            close_old_connections()
            time.sleep(every)
