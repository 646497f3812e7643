"""Which samples an evaluation runs, in which order, checked only when they are reached.

The dataset scan reads metadata alone (`read_dataset(open_images=False, resolve_places=False)`),
so the time before the first sample does not grow with the dataset. Samples are then taken in a
seeded order stratified over places and months (`stratified_order`), or in a subset CSV's row
order (`--subset`, as the original evaluated its fixed lists); each one reached is decoded and
checked (and placed by the offline geocoder when it has no address) just before it is used, so
`--limit 3` opens three images (and their controls) whatever the dataset holds. The decoded image
travels with the selection, so the evaluation does not decode it again.
"""

from __future__ import annotations

import random
from collections import Counter
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


def stratified_order(dataset: Dataset, seed: int = 0) -> Iterator[Sample]:
    """Every sample once, in a seeded order whose first N are spread over places and months.

    Rounds over the locations (a fresh seeded order each round); in its turn a location gives the
    remaining sample whose month (YYYY-MM) has been taken least often so far. So `--limit N` with
    N below the number of places takes N different places and spreads them over the months, and
    a 5-place x 12-month dataset with N = 12 gets all 5 places and 12 different months. Lazy: a
    limit of a few samples on millions costs one pass to group them and a few picks.
    """
    rng = random.Random(f"stratified:{seed}")
    by_location: dict[str, list[Sample]] = {}
    for sample in dataset:
        by_location.setdefault(sample.location_id, []).append(sample)
    for queue in by_location.values():
        rng.shuffle(queue)  # ties between equally used months go to a seeded draw
    taken: Counter[str] = Counter()
    locations = sorted(by_location)
    while locations:
        rng.shuffle(locations)
        for location in locations:
            queue = by_location[location]
            pick = min(range(len(queue)), key=lambda i: taken[str(queue[i].month)])
            sample = queue.pop(pick)
            taken[str(sample.month)] += 1
            yield sample
        locations = [loc for loc in locations if by_location[loc]]


def in_dataset_order(dataset: Dataset, seed: int = 0) -> Iterator[Sample]:
    """The dataset's own order (a subset CSV's row order, as the original evaluated it)."""
    del seed
    return iter(dataset)


def describe_selection(samples: list[Sample], ordered_by: str) -> str:
    """One line saying what a run took, e.g. "12 samples: stratified over places and months (5 places, 12 months)"."""
    places = len({s.location_id for s in samples})
    months = len({str(s.month) for s in samples})
    return f"{len(samples)} samples: {ordered_by} ({places} places, {months} months)"


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
        order: (dataset, seed) -> the samples in the order they are tried; default `stratified_order`.
        seed: the order's seed.

    After (or during) iteration: `bad` lists the files found unusable, `no_control` counts the
    samples left out for want of a control, `selected` counts the samples yielded, `taken` lists them.
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
        order: Callable[[Dataset, int], Iterator[Sample]] = stratified_order,
        seed: int = 0,
    ) -> None:
        self._order = order
        self._seed = seed
        self.taken: list[Sample] = []
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
        for sample in self._order(self.dataset, self._seed):
            if self.limit is not None and self.selected >= self.limit:
                return
            key = self.key_of(sample)
            if key in self.finished:
                self.selected += 1
                self.taken.append(sample)
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
            self.taken.append(sample)
            yield Selected(key, placed, control, real, finished=False)
