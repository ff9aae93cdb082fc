"""Errors the simulator raises to its callers."""


class ParamError(ValueError):
    """A bad scenario id or parameter. ``field`` is "scenario" or "params.<name>"; message is English."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
