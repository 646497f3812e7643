"""The projection picker's values (SSP x horizon, and the years of the observed normals) read once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import BadRequestError

DEFAULT_NORMALS = "1995-2014"


@dataclass(frozen=True)
class ProjectionChoice:
    """A picked CMIP6 scenario: SSP (e.g. "ssp245"), horizon year and the NASA POWER normals' years."""

    ssp: str
    horizon: int
    observed_years: tuple[int, int]

    @classmethod
    def read(cls, ssp: Any, horizon: Any, normals: Any) -> ProjectionChoice | None:
        """None when no SSP is picked (the sliders' scenario is used)."""
        ssp_text = str(ssp or "").strip()
        if not ssp_text:
            return None
        try:
            year = int(str(horizon).strip())
        except ValueError as err:
            raise BadRequestError(f"The horizon {horizon!r} is not a year.", "Pick 2050, 2075 or 2100.") from err
        return cls(ssp_text, year, read_years(normals))


def read_years(text: Any) -> tuple[int, int]:
    """'1995-2014' -> (1995, 2014); empty -> the default span."""
    value = str(text or "").strip() or DEFAULT_NORMALS
    try:
        start, end = (int(part) for part in value.split("-"))
    except ValueError as err:
        raise BadRequestError(
            f"The observed normals' years {value!r} are not YYYY-YYYY.", f"Write e.g. {DEFAULT_NORMALS}."
        ) from err
    if not 1981 <= start <= end:
        raise BadRequestError(
            f"The observed normals' years {value} are not a span within NASA POWER's record (1981 on).",
            f"Write e.g. {DEFAULT_NORMALS}.",
        )
    return start, end
