"""Registers every command on the app. One import line per command module."""

from . import flow, image, video, weights  # noqa: F401
