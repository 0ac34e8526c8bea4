"""Registers every command on the app. One import line per command module."""

from . import clean, compare, evaluate, flow, image, report, train, video, weights  # noqa: F401
