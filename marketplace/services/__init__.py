"""Domain operations: plain functions that take and return models; they flush, never commit.

Errors a user can fix are raised as ``ServiceError`` with a Chinese message.
"""


class ServiceError(Exception):
    """A domain rule refused the operation; ``str(err)`` is shown to the user as is."""


class NotFound(ServiceError):
    """The object does not exist or is not visible to the caller."""


class Forbidden(ServiceError):
    """The caller may not act on this object."""
