"""Domain errors: each carries an HTTP status, a stable code and a message a person understands."""

from __future__ import annotations


class AppError(Exception):
    """Base for errors the user should see; rendered as JSON for /api and as a page or fragment otherwise."""

    status_code = 400
    code = "bad_request"
    default_detail = "The request could not be processed."

    def __init__(self, detail: str | None = None, *, code: str | None = None, status_code: int | None = None):
        self.detail = detail or self.default_detail
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        super().__init__(self.detail)


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"
    default_detail = "Some of the values sent are not valid."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    default_detail = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    default_detail = "That cannot be done in the current state."


class AuthenticationRequired(AppError):
    status_code = 401
    code = "not_authenticated"
    default_detail = "Sign in to continue."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    default_detail = "You are not allowed to do that."
