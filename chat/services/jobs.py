"""Scheduled commands leave their last run in the database for the metrics (JobRun)."""

import logging
import time
from contextlib import contextmanager

from django.utils import timezone

from chat.models import JobRun

logger = logging.getLogger(__name__)


@contextmanager
def job_run(*, command: str):
    """Record ``command``'s start, then its success and duration, or its failure.

    Use around a command's work (``with job_run(command=...)``, or as a decorator of its
    ``handle``). The record never hides the job's own outcome: a failure to write it is
    logged, and the job's exception goes on.
    """
    started_at = timezone.now()
    started = time.monotonic()
    _record(command, last_started_at=started_at)
    try:
        yield
    except Exception:
        _record(command, last_failure_at=timezone.now())
        raise
    _record(command, last_success_at=timezone.now(), last_duration_seconds=time.monotonic() - started)


def _record(command: str, **fields) -> None:
    try:
        JobRun.objects.update_or_create(command=command, defaults=fields)
    except Exception:
        logger.exception("could not record the run of %s", command)
