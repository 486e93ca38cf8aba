"""Pure input validation and normalisation: no Flask, no database.

Each validator raises ``ValidationError`` with a message in Chinese that can be shown as is.
"""


class ValidationError(ValueError):
    """Input that cannot be accepted; ``str(err)`` is a user-facing Chinese message."""
