"""Files of a training run: the loss CSV, checkpoint folders and their pruning."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

from core.errors import BadRequestError
from core.io.files import atomic_write_json, atomic_write_text

LOSS_COLUMNS = ("step", "loss", "learning_rate", "epoch", "elapsed_s")
CHECKPOINT_PREFIX = "checkpoint-"
# Written last into a checkpoint folder: its presence means the checkpoint is complete.
STATE_FILE = "training_state.json"
_CHECKPOINT_RE = re.compile(rf"^{CHECKPOINT_PREFIX}(\d+)$")


class LossLog:
    """`loss.csv` with one row per logged optimizer step; rows are appended and flushed one by one.

    Args:
        path: the CSV file.
        resume_step: keep the rows up to this step (a resumed run continues the same file), or
            None to start a new file.
    """

    def __init__(self, path: Path, resume_step: int | None) -> None:
        self.path = path
        kept: list[dict[str, str]] = []
        if resume_step is not None and path.is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                # a row torn by a crash mid-append lacks columns: drop it with the steps after the checkpoint
                kept = [
                    row
                    for row in csv.DictReader(handle)
                    if all(row.get(column) for column in LOSS_COLUMNS) and int(row["step"]) <= resume_step
                ]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=LOSS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
        atomic_write_text(path, buffer.getvalue())

    def append(self, step: int, loss: float, learning_rate: float, epoch: int, elapsed_s: float) -> None:
        line = f"{step},{loss:.6f},{learning_rate:.6g},{epoch},{elapsed_s:.3f}\n"
        # One short line per write with O_APPEND: readers see whole rows.
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()


def read_loss_log(path: Path) -> list[tuple[int, float]]:
    """(step, loss) pairs from a loss CSV."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [(int(row["step"]), float(row["loss"])) for row in csv.DictReader(handle)]


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return output_dir / "checkpoints" / f"{CHECKPOINT_PREFIX}{step:08d}"


def complete_checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    root = output_dir / "checkpoints"
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _CHECKPOINT_RE.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def resolve_resume(output_dir: Path, resume: str) -> Path | None:
    """The checkpoint to resume from: "latest" (None if there is none), "none", or a folder."""
    if resume == "none":
        return None
    if resume == "latest":
        found = complete_checkpoints(output_dir)
        return found[-1] if found else None
    path = Path(resume).expanduser()
    if not (path / STATE_FILE).is_file():
        raise BadRequestError(
            f"Cannot resume from {path}: it is not a complete checkpoint (no {STATE_FILE}).",
            'Give a folder under <output_dir>/checkpoints, "latest" or "none".',
        )
    return path


def write_state_file(directory: Path, state: dict) -> None:
    atomic_write_json(directory / STATE_FILE, state)


def read_state_file(directory: Path) -> dict:
    return json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))


def prune_checkpoints(output_dir: Path, keep_last: int) -> None:
    """Delete all but the newest `keep_last` complete checkpoints (0 keeps all)."""
    if keep_last <= 0:
        return
    for old in complete_checkpoints(output_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
