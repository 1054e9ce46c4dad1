"""The errors services raise; pages and the API turn them into messages and status codes."""

from __future__ import annotations


class RegistryError(Exception):
    """A refusal that a person can act on."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict:
        return {"detail": self.message}


class InvalidInput(RegistryError):
    """Input that cannot be accepted; `errors` maps each field (or item) to its reasons."""

    def __init__(self, errors: dict):
        super().__init__("the input is not valid")
        self.errors = errors

    def as_dict(self) -> dict:
        return self.errors


class NotAllowed(RegistryError):
    """The caller's role or body may not do this."""

    status = 403


class WrongState(RegistryError):
    """The object is not in a state where this step applies."""

    status = 409


class TooLarge(RegistryError):
    """A request body past the limit set for it."""

    status = 413


class TooMany(RegistryError):
    """More of something in a period than a limit allows; `retry_after` is in seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
