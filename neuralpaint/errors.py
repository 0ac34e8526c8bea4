"""The project's error types.

Every error caused by what the user gave us (a path, an option value, a file's content) is an
:class:`InputError`. Its message repeats the bad value; the CLI prints it as one line
``error: <message>`` and exits with status 2, without a traceback.
"""

from __future__ import annotations

from typing import Any


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


class InterruptedRun(KeyboardInterrupt):
    """Ctrl-C during an optimisation, carrying where it was (a :class:`KeyboardInterrupt`, so
    every handler of Ctrl-C still sees it).

    ``raw`` is the last evaluated iterate (the optimised variable, (1,3,H,W), at the size of
    ``scale``; :meth:`~neuralpaint.optimize.Stylizer.run` resizes it to the output size and adds
    ``image``, the displayable result), ``iterations`` the iterations done in that scale.
    """

    def __init__(self, raw: Any, iterations: int, scale: int, image: Any = None):
        super().__init__("interrupted")
        self.raw = raw
        self.iterations = iterations
        self.scale = scale
        self.image = image


class UserInterrupt(KeyboardInterrupt):
    """Ctrl-C after the CLI saved something: ``message`` says what and where (printed as
    ``error: <message>``, exit 130)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
