"""Domain operations: plain functions that take and return models; they flush, never commit.

Errors a user can fix are raised as ``ServiceError`` with a Chinese message; callers that must
react to one particular refusal catch its typed subclass (never compare messages). The request's
unit of work (``marketplace.unit_of_work``) rolls everything back when a refusal escapes a
service, and ``marketplace.errors`` turns it into a flashed message (``NotFound``: 404,
``Forbidden``: 403).
"""


class ServiceError(Exception):
    """A domain rule refused the operation; ``str(err)`` is shown to the user as is."""


class NotFound(ServiceError):
    """The object does not exist or is not visible to the caller."""


class Forbidden(ServiceError):
    """The caller may not act on this object."""


class AlreadyDecided(ServiceError):
    """The application is no longer pending: someone else decided or withdrew it first."""

    def __init__(self, message: str = "已被其他工作人员处理"):
        super().__init__(message)


class EditConflict(ServiceError):
    """Someone changed the record since this editor loaded it (optimistic locking): the edit
    is refused as a whole, and the form keeps what was typed."""

    def __init__(self, message: str = "该资料刚被修改，请刷新后重试"):
        super().__init__(message)


class WrongPassword(ServiceError):
    """The current password given to confirm a change is not the account's password."""

    def __init__(self, message: str = "当前密码不正确。"):
        super().__init__(message)
