"""How sure a change is: statistics over N seeds of today and of the scenario (same seeds, so the change is paired).

The change of sample k is scenario_k - today_k from the same seed: what the model draws regardless of
the climate (and, in modes edit / invert, its reconstruction error) cancels. All values are in 0-255 units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# A pixel "agrees" when at least this share of the samples change its brightness with the same sign.
AGREEMENT_SHARE = 0.8
MIN_SAMPLES = 2
MAX_SAMPLES = 64


@dataclass(frozen=True)
class ChangeStatistics:
    """Per-pixel maps and their pixel means.

    Attributes:
        mean_change: HxWx3, mean over samples of scenario - today.
        spread: HxW, standard deviation over samples of the change (channel mean): 0 = every seed changed
            the pixel alike.
        scenario_spread: HxW, standard deviation over samples of the scenario image itself (channel mean):
            how much the seed alone decides the picture.
        agreement_map: HxW bool, at least `AGREEMENT_SHARE` of the samples agree on the sign of the
            brightness change (no change counts as a sign of its own).
    """

    samples: int
    mean_change: np.ndarray = field(repr=False)
    spread: np.ndarray = field(repr=False)
    scenario_spread: np.ndarray = field(repr=False)
    agreement_map: np.ndarray = field(repr=False)

    @property
    def brightness_change(self) -> np.ndarray:
        """HxW, mean change of brightness (channel mean) over samples."""
        return self.mean_change.mean(axis=-1)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "samples": self.samples,
            "mean_abs_change": round(float(np.abs(self.mean_change).mean()), 4),
            "mean_spread": round(float(self.spread.mean()), 4),
            "mean_spread_scenario": round(float(self.scenario_spread.mean()), 4),
            "agreement": round(float(self.agreement_map.mean()), 4),
        }


def change_statistics(today: list[np.ndarray], scenario: list[np.ndarray]) -> ChangeStatistics:
    """The statistics of paired samples (uint8 HxWx3 each, today[k] and scenario[k] from the same seed)."""
    if len(today) != len(scenario) or len(today) < 1:
        raise ValueError(f"{len(today)} today and {len(scenario)} scenario samples are not pairs.")
    before = np.stack(today).astype(np.float64)
    after = np.stack(scenario).astype(np.float64)
    change = after - before  # samples x H x W x 3
    signs = np.sign(change.mean(axis=-1))  # samples x H x W
    share = np.max([(signs == s).mean(axis=0) for s in (-1.0, 0.0, 1.0)], axis=0)
    return ChangeStatistics(
        samples=len(today),
        mean_change=change.mean(axis=0),
        spread=change.std(axis=0).mean(axis=-1),
        scenario_spread=after.std(axis=0).mean(axis=-1),
        agreement_map=share >= AGREEMENT_SHARE - 1e-9,
    )
