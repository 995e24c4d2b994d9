"""End chats nobody wrote in for a while (run every few minutes, e.g. by a Render cron job)."""

from django.core.management.base import BaseCommand, CommandError

from chat.services import close_idle_sessions, job_run


class Command(BaseCommand):
    help = (
        "End waiting and active chats with no message for --minutes (default 30). The customer "
        "gets a system message saying the chat was closed for inactivity."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=30,
            metavar="N",
            help="Minutes without a message after which a chat is closed (1 or more; default 30).",
        )

    @job_run(command="close_idle_sessions")  # its last success, for /metrics
    def handle(self, *args, **options):
        minutes = options["minutes"]
        if minutes < 1:
            raise CommandError(f"--minutes must be 1 or more, got {minutes}.")
        closed = close_idle_sessions(minutes=minutes)
        noun = "chat" if closed == 1 else "chats"
        self.stdout.write(f"Closed {closed} idle {noun} (no message for {minutes} minutes).")
