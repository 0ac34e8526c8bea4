"""Registers every command on the app. One import line per command module."""

from . import compare, evaluate, flow, image, report, video, weights  # noqa: F401
