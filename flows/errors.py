"""The error type of the flows package (standalone: it never imports neuralpaint)."""


class FlowError(ValueError):
    """Bad input to flows: wrong shapes, a bad .flo file, an unknown method. Names the value."""
