"""Errors the core raises. Every message is one sentence a user can act on and never
contains a secret value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the outcome's texts import core.i18n, which imports this module
    from .outcome import Category, Outcome


class XdrconfError(Exception):
    """Base of every error that is meant to be shown to the user as it is."""


class ValidationError(XdrconfError):
    """A value entered for a named field is not acceptable."""

    def __init__(self, label: str, problem: str, *, field: str | None = None) -> None:
        self.label = label
        self.problem = problem
        self.field = field or label
        super().__init__(f"{label}: {problem}")


class SecretsWouldFollow(XdrconfError):
    """An edit would send stored secrets to a new target without the user saying so
    (core.targets); nothing was saved. `following` lists them (core.targets.Following)."""

    def __init__(self, message: str, following: list[Any]) -> None:
        self.following = following
        super().__init__(message)


class NotFoundError(XdrconfError):
    pass


class TenantError(XdrconfError):
    """A tenant operation that the tree's rules do not allow."""


class KeyringUnavailable(XdrconfError):
    """No usable OS keyring: no backend, a locked one, or one that does not answer."""


class SettingsUnreadable(XdrconfError):
    """The settings file is corrupt or of an unknown schema version; it was moved aside."""

    def __init__(self, message: str, *, moved_to: str, backup: str | None) -> None:
        self.moved_to = moved_to
        self.backup = backup
        super().__init__(message)


class SettingsChanged(XdrconfError):
    """The settings file on disk is not the version that was read: another program changed
    it. Nothing was saved; reloading gives the other program's version."""


class SettingsIOError(XdrconfError, OSError):
    """The settings folder or file could not be read or written (a full disk, a read-only
    file system, no permission). The message names the file and the cause; nothing was lost.
    Still an OSError, for callers that handle those."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class SettingsLocked(XdrconfError):
    """Another xdrconf holds the settings folder's lock."""


class ReadOnlyError(XdrconfError):
    """A change was attempted on settings that were opened read-only."""


class OperationFailed(XdrconfError):
    """Raised by an operation (or the request helper) to end with one outcome category.

    refused: nothing was attempted on the peer because the configuration does not allow it
    (a missing secret, a value that cannot be sent)."""

    def __init__(
        self,
        category: Category,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        refused: bool = False,
    ) -> None:
        self.category = category
        self.details = dict(details or {})
        self.refused = refused
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self)

    @classmethod
    def of(cls, outcome: Outcome) -> OperationFailed:
        """An outcome that is not ok as an exception, for front ends that report errors so."""
        return cls(outcome.category, outcome.message, details=outcome.details, refused=outcome.refused)


class Stopped(BaseException):
    """An operation was abandoned (cancelled or overdue): its thread ends quietly. Not an
    Exception, so that no `except Exception` in an operation swallows it."""
