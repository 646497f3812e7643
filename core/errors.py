"""One exception family: every message says what was wrong and what to do about it."""

from __future__ import annotations


class EcoMapperError(Exception):
    """Root of the project's errors.

    Args:
        problem: what was wrong, naming the bad value.
        fix: what the user can do about it.
    """

    def __init__(self, problem: str, fix: str = "") -> None:
        # Causes quoted from other libraries can span lines; the CLI and the app show one line.
        self.problem = " ".join(problem.split())
        self.fix = " ".join(fix.split())
        super().__init__(f"{self.problem} {self.fix}".strip())


class BadRequestError(EcoMapperError, ValueError):
    """The user's input is invalid (a point, a month, a setting, a file)."""


class UpstreamError(EcoMapperError):
    """A remote service (STAC, COG host, NASA POWER, the Hub) failed or answered nonsense."""

    def __init__(
        self, problem: str, fix: str = "", *, service: str = "", url: str = "", status: int | None = None
    ) -> None:
        self.service = service
        self.url = url
        self.status = status
        super().__init__(problem, fix)


class OfflineCacheMissError(UpstreamError):
    """Offline mode is on and the answer is not in the on-disk cache."""


class NoImageryError(EcoMapperError):
    """No usable satellite scene exists for the place and month asked for."""


class ModelUnavailableError(EcoMapperError):
    """Weights cannot be found, loaded or downloaded."""


class CancelledError(EcoMapperError):
    """The user cancelled a long-running job."""
