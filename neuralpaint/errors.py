"""The project's error types.

Every error caused by what the user gave us (a path, an option value, a file's content) is an
:class:`InputError`. Its message repeats the bad value; the CLI prints it as one line
``error: <message>`` and exits with status 2, without a traceback.
"""

from __future__ import annotations


class NeuralPaintError(Exception):
    """Base class of neuralpaint's own errors."""


class InputError(NeuralPaintError, ValueError):
    """Bad input: a path, an option value or a file's content. The message names the value."""


class WeightsError(InputError):
    """VGG or fast-network weights that are missing, unsafe, or do not match the model."""


class ResumeError(InputError):
    """A run folder that belongs to another clip or to other settings."""


class OutOfMemoryError(NeuralPaintError):
    """The device ran out of memory; the message says which setting to lower."""


class NonFiniteLossError(NeuralPaintError):
    """The loss became NaN or infinite; the message names the setting to change."""
