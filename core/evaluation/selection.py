"""Which samples an evaluation runs, in which order, checked only when they are reached.

The dataset scan reads metadata alone (`read_dataset(open_images=False, resolve_places=False)`),
so the time before the first sample does not grow with the dataset. Samples are then taken
round-robin over locations; each one reached is decoded and checked (and placed by the offline
geocoder when it has no address) just before it is used, so `--limit 3` opens three images (and
their controls) whatever the dataset holds. The decoded image travels with the selection, so the
evaluation does not decode it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.dataset.reader import (
    MAX_CONTROL_GAP_MONTHS,
    Dataset,
    Sample,
    SkippedFile,
    SkipSample,
    default_place_resolver,
    sample_problem,
    with_place,
)


@dataclass(frozen=True)
class Selected:
    """One sample to evaluate: its result key, the sample and its control (ControlNet mode).

    `real` is the sample's decoded image when it was checked now, None when its result already
    exists (a resumed run does not open it).
    """

    key: str
    sample: Sample
    control: Sample | None
    real: np.ndarray | None
    finished: bool


def round_robin(dataset: Dataset) -> list[Sample]:
    """All samples, one location after the other in turn (each location's months in order)."""
    by_location: dict[str, list[Sample]] = {}
    for sample in dataset:
        by_location.setdefault(sample.location_id, []).append(sample)
    queues = [list(v) for _, v in sorted(by_location.items())]
    ordered: list[Sample] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


class SampleSelector:
    """Iterate the samples to evaluate, up to `limit`, checking each only when it is reached.

    Args:
        dataset: read with `open_images=False, resolve_places=False` (or fully; checks then repeat).
        key_of: sample -> result key (finished keys are yielded unchecked, `finished=True`).
        finished: keys whose results exist already.
        limit: stop after this many selected samples (finished ones count); None = all.
        with_control: ControlNet mode: each sample needs a usable real image 1..6 months earlier.
        choose_control: (sample, candidates nearest first) -> the control to use; default the nearest.
            A chosen control whose image is unusable is dropped and the choice made again.
        place_resolver_factory: makes the point -> (state, country) resolver on first need.

    After (or during) iteration: `bad` lists the files found unusable, `no_control` counts the
    samples left out for want of a control, `selected` counts the samples yielded.
    """

    def __init__(
        self,
        dataset: Dataset,
        key_of: Callable[[Sample], str],
        finished: set[str] | frozenset[str] = frozenset(),
        limit: int | None = None,
        with_control: bool = False,
        place_resolver_factory: Callable[[], Any] = default_place_resolver,
        choose_control: Callable[[Sample, list[Sample]], Sample] | None = None,
    ) -> None:
        self.dataset = dataset
        self.key_of = key_of
        self.finished = set(finished)
        self.limit = limit
        self.with_control = with_control
        self._choose_control = choose_control or (lambda _sample, candidates: candidates[0])
        self._resolver_factory = place_resolver_factory
        self._resolver: Any = None
        self._verdicts: dict[Path, bool] = {}
        self.bad: list[SkippedFile] = []
        self.no_control = 0
        self.selected = 0

    @property
    def expected(self) -> int:
        """At most this many samples will be selected (for progress bars)."""
        return len(self.dataset) if self.limit is None else min(self.limit, len(self.dataset))

    def _check(self, sample: Sample) -> np.ndarray | None:
        """The decoded image when usable (remembered per file), else None (and the file joins `bad`)."""
        known = self._verdicts.get(sample.image_path)
        if known is False:
            return None
        image, problem = sample_problem(sample)
        self._verdicts[sample.image_path] = problem is None
        if problem is not None:
            self.bad.append(problem)
        return image

    def _placed(self, sample: Sample) -> Sample | None:
        if sample.metadata.country:
            return sample
        if self._resolver is None:
            self._resolver = self._resolver_factory()  # the geocoder loads only when a sample needs it
        try:
            return with_place(sample, self._resolver)
        except SkipSample as err:
            self.bad.append(SkippedFile(sample.source_path, err.problem))
            return None

    def _has_earlier(self, sample: Sample) -> bool:
        return any(
            self.dataset.get(f"{sample.location_id}@{sample.month - gap}") is not None
            for gap in range(1, MAX_CONTROL_GAP_MONTHS + 1)
        )

    def _control_for(self, sample: Sample) -> Sample | None:
        """A usable real image of the same place 1..6 months earlier, as `choose_control` picks it."""
        candidates = [
            earlier
            for gap in range(1, MAX_CONTROL_GAP_MONTHS + 1)
            if (earlier := self.dataset.get(f"{sample.location_id}@{sample.month - gap}")) is not None
        ]
        while candidates:
            chosen = self._choose_control(sample, candidates)
            if self._check(chosen) is not None:
                return chosen
            candidates.remove(chosen)
        return None

    def __iter__(self) -> Iterator[Selected]:
        for sample in round_robin(self.dataset):
            if self.limit is not None and self.selected >= self.limit:
                return
            key = self.key_of(sample)
            if key in self.finished:
                self.selected += 1
                yield Selected(key, sample, None, None, finished=True)
                continue
            if self.with_control and not self._has_earlier(sample):
                self.no_control += 1  # known from the metadata alone: nothing to decode
                continue
            placed = self._placed(sample)
            if placed is None:
                continue
            real = self._check(sample)
            if real is None:
                continue
            control = None
            if self.with_control:
                control = self._control_for(sample)
                if control is None:
                    self.no_control += 1
                    continue
            self.selected += 1
            yield Selected(key, placed, control, real, finished=False)
