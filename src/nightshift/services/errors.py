"""Errors services raise; the API maps each to one HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class Forbidden(ServiceError):
    code = "forbidden"


class Invalid(ServiceError):
    code = "invalid_request"


class QueueFull(ServiceError):
    code = "queue_full"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """A dependency (secret backend, cluster) cannot be reached; retry later."""

    code = "unavailable"
