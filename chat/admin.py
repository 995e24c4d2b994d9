"""The agents' back office in the Django admin."""

from . import admin_metrics  # noqa: F401  (managers' metrics screen registers itself)
