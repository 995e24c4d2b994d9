"""Database backends of the project (see postgresql/base.py)."""
