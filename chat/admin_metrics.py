"""Managers' metrics in the admin (daily rows, metrics screen, exports)."""
