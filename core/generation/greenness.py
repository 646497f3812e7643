"""A greenness index from RGB alone (Excess Green, ExG), for real and generated images alike.

ExG (Woebbecke et al. 1995) on chromatic coordinates: r, g, b = R, G, B / (R + G + B), ExG = 2g - r - b,
from -1 to 2 (0 = grey; vegetation is usually above ~0.05). Chosen over VARI, (G - R) / (G + R - B),
whose denominator goes to 0 over bright soil and makes single pixels explode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

GREENNESS_INDEX = "ExG"
GREENNESS_NAME = "Excess Green (ExG = 2g - r - b on chromatic coordinates)"
GREENNESS_CAVEAT = (
    "ExG is computed from visible RGB only: it is not NDVI (no near-infrared), it responds to anything green "
    "(algae, painted roofs) and to the colour balance of the image, so compare images from the same generator "
    "and treat real-versus-generated differences as indicative."
)
# Black pixels (no data) have no chromaticity: left out of the mean.
_MIN_SUM = 1.0


def excess_green(image: np.ndarray) -> float:
    """The mean ExG of a uint8 HxWx3 image (pixels with R + G + B < 1 left out); NaN when none is left."""
    pixels = np.asarray(image, dtype=np.float64).reshape(-1, 3)
    total = pixels.sum(axis=1)
    valid = total >= _MIN_SUM
    if not valid.any():
        return float("nan")
    r, g, b = (pixels[valid] / total[valid, None]).T
    return float(np.mean(2.0 * g - r - b))


def _mean_excess_green(images: np.ndarray | Sequence[np.ndarray]) -> float:
    """ExG of one image, or the mean ExG of several (the samples of an ensemble)."""
    if isinstance(images, np.ndarray):
        return excess_green(images)
    return float(np.mean([excess_green(image) for image in images]))


def greenness_summary(
    today: np.ndarray | Sequence[np.ndarray],
    scenario: np.ndarray | Sequence[np.ndarray],
    real: np.ndarray | None = None,
) -> dict[str, Any]:
    """ExG of the real image (None without one), today and the scenario (means over samples when given several),
    their changes and the index's caveat."""
    today_exg, scenario_exg = _mean_excess_green(today), _mean_excess_green(scenario)
    real_exg = None if real is None else excess_green(real)
    return {
        "index": GREENNESS_INDEX,
        "name": GREENNESS_NAME,
        "real": None if real_exg is None else round(real_exg, 4),
        "today": round(today_exg, 4),
        "scenario": round(scenario_exg, 4),
        "change_scenario_minus_today": round(scenario_exg - today_exg, 4),
        "today_minus_real": None if real_exg is None else round(today_exg - real_exg, 4),
        "caveat": GREENNESS_CAVEAT,
    }
