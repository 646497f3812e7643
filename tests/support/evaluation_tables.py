"""Two evaluation output folders hold the same tables (a multi-process or cluster run against one process)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

TABLES = ("models", "land_cover", "year", "extremes")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def assert_same_tables(one: Path, two: Path) -> None:
    """Equal tables: every column exactly but FID, which agrees to 1e-5 relative.

    The images are the same bytes, so SSIM, PSNR and N are equal; FID comes from Inception features
    summed in another order (and torchrun runs each process with OMP_NUM_THREADS=1), so it agrees to
    about 1e-6 relative, not always in the 6th digit written.
    """
    for table in TABLES:
        first = read_rows(one / "tables" / f"{table}.csv")
        second = read_rows(two / "tables" / f"{table}.csv")
        assert [{k: v for k, v in row.items() if k != "fid"} for row in first] == [
            {k: v for k, v in row.items() if k != "fid"} for row in second
        ], table
        assert [float(row["fid"] or "nan") for row in first] == pytest.approx(
            [float(row["fid"] or "nan") for row in second], rel=1e-5, nan_ok=True
        ), table
