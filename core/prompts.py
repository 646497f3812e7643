"""The EcoMapper prompts: the spatial prompt (CLIP-L/G) and the climate prompt (T5), exact to the letter.

Spatial prompt (SD3 `prompt` and `prompt_2`)::

    a {cloud}satellite image of {land cover} in {state}, {country} on {Month} {year}.

Climate prompt (SD3 `prompt_3`, T5 with `max_sequence_length=256`): the spatial prompt followed by::

     The average temperature over the last month was {T} C. with an average precipitation {P} mm,
     and an average daily solar radiation of {R} W/m2.

(one line, a single space between the two prompts). Models fine-tuned on EcoMapper captions only
understand these strings, so the wording, punctuation and spacing are fixed here and tested
character for character.

Rounding of T, P, R: Python's `round()` (round half to even on values that are exactly a tie in
binary, e.g. 14.5 -> 14, 15.5 -> 16, -2.5 -> -2), which is what the f-strings / `round` the
EcoMapper captions were written with give: `f"{x:.0f}"` and `round(x)` agree on every value except
that the f-string prints "-0" for values in [-0.5, 0); we print "0" there (a caption never says
"-0 C"). Values such as 2.675 that look like ties but are not exact in binary round as their
binary value does.

Word mode (a documented variant, not the paper's default): the numbers are replaced by words,
using the vocabulary of the EcoMapper dataset's `caption_info.climate_str_3` field. The bins are
inferred from the real samples in `fixtures/ecomapper_example` (the dataset does not publish them)
and are listed in `TEMP_WORDS`, `PRECIP_WORDS`, `SOLAR_WORDS`.

Training-time dropout (`dropout_prompts`) removes the date part (" on {Month} {year}") and/or
the location part (" in {state}, {country}") independently with a given probability, from a
seeded random generator, so a fine-tuned model also works when one of them is unknown.
"""

from __future__ import annotations

import difflib
import math
import random
from dataclasses import dataclass
from typing import Protocol

from core.climate_values import ClimateValues
from core.errors import BadRequestError
from core.geo import Month
from core.land_cover_classes import LAND_COVER_CLASSES

# English month names, fixed here rather than from `calendar` (which follows the process locale).
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Cloud phrase by cloud fraction: (exclusive lower bound, phrase), checked from the top.
CLOUD_PHRASES = (
    (0.7, "very cloudy "),
    (0.5, "cloudy "),
    (0.3, "partially cloudy "),
)

# T5 reads up to this many tokens of the climate prompt (as in EcoMapper's training).
CLIMATE_MAX_SEQUENCE_LENGTH = 256

# Word-mode bins: (upper bound, exclusive; word). The last entry catches everything above.
# Inferred from the EcoMapper samples' `climate_str_3` (e.g. -1.4 C "very cold", 0.85 C "cool",
# 10.21 C "mild"; 0.96 mm/day "dry", 1.03 "humid", 5.65 "rainy"; 1.93 MJ/m2/day "cloudy",
# 2.27 "partly sunny", 3.16 "sunny", 6.67 "very sunny"). "warm"/"hot" and "very rainy" extend the
# scales past what the samples show, at the same 10 C / 5x steps.
TEMP_WORDS = ((0.0, "very cold"), (10.0, "cool"), (20.0, "mild"), (30.0, "warm"), (math.inf, "hot"))
PRECIP_WORDS = ((1.0, "dry"), (5.0, "humid"), (15.0, "rainy"), (math.inf, "very rainy"))
SOLAR_WORDS = ((2.0, "cloudy"), (3.0, "partly sunny"), (5.0, "sunny"), (math.inf, "very sunny"))

# Default training-time dropout probabilities of the date and location parts (our choice; the
# paper says only that they are dropped at random).
DEFAULT_DATE_DROPOUT = 0.1
DEFAULT_LOCATION_DROPOUT = 0.1


class _RandomSource(Protocol):
    def random(self) -> float: ...


@dataclass(frozen=True)
class Prompts:
    """The two prompts of one image: `spatial` for CLIP-L/G, `climate` for T5."""

    spatial: str
    climate: str

    def as_dict(self) -> dict[str, str]:
        return {"spatial": self.spatial, "climate": self.climate}


@dataclass(frozen=True)
class PromptInputs:
    """What a prompt says about one image.

    Args:
        land_cover: one of the 15 `LAND_COVER_CLASSES`, spelled exactly.
        cloud_fraction: fraction of cloudy pixels over the footprint, 0..1.
        country: country name as the reverse geocoder gives it (required).
        state: first-level region, or None/"" when unknown (the prompt then says " in {country}").
        month: the month shown.
        climate: the month's climate, or None when unknown (the climate prompt is then the spatial one).
    """

    land_cover: str
    cloud_fraction: float
    country: str
    state: str | None
    month: Month
    climate: ClimateValues | None = None

    def __post_init__(self) -> None:
        if self.land_cover not in LAND_COVER_CLASSES:
            close = difflib.get_close_matches(str(self.land_cover), LAND_COVER_CLASSES, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise BadRequestError(
                f"Unknown land cover {self.land_cover!r}.{hint}",
                f"Use one of the 15 EcoMapper classes: {', '.join(LAND_COVER_CLASSES)}.",
            )
        cloud = self.cloud_fraction
        if isinstance(cloud, bool) or not isinstance(cloud, (int, float)) or not math.isfinite(cloud):
            raise BadRequestError(
                f"The cloud fraction {cloud!r} is not a number.", "Give the cloud fraction as a number from 0 to 1."
            )
        if not 0.0 <= cloud <= 1.0:
            raise BadRequestError(
                f"The cloud fraction {cloud:g} is outside 0..1.",
                "Give the fraction of cloudy pixels from 0 (clear) to 1 (overcast), e.g. 0.4 rather than 40.",
            )
        object.__setattr__(self, "cloud_fraction", float(cloud))
        if not isinstance(self.country, str) or not self.country.strip():
            raise BadRequestError(
                f"The country {self.country!r} is empty.", "Give the country the place lies in (e.g. --country Kenya)."
            )
        object.__setattr__(self, "country", self.country.strip())
        if self.state is not None and not isinstance(self.state, str):
            raise BadRequestError(f"The state {self.state!r} is not text.", "Give a region name or leave it out.")
        object.__setattr__(self, "state", (self.state or "").strip() or None)
        if not isinstance(self.month, Month):
            object.__setattr__(self, "month", Month.parse(self.month))
        if self.climate is not None and not isinstance(self.climate, ClimateValues):
            raise BadRequestError(
                f"The climate {self.climate!r} is not a ClimateValues.",
                "Pass core.climate_values.ClimateValues(temp_c, precip_mm_day, solar_mj_m2_day) or None.",
            )


def cloud_phrase(cloud_fraction: float) -> str:
    """The cloud words of the spatial prompt, with their trailing space ("" when clear enough)."""
    for lower_exclusive, phrase in CLOUD_PHRASES:
        if cloud_fraction > lower_exclusive:
            return phrase
    return ""


def caption_integer(value: float) -> int:
    """A climate value as the caption prints it: Python `round` (half to even), never "-0"."""
    # round() without ndigits returns an int, so -0.4 becomes 0 rather than the f-string's "-0".
    return round(value)


def _word(value: float, bins: tuple[tuple[float, str], ...]) -> str:
    for upper_exclusive, word in bins:
        if value < upper_exclusive:
            return word
    return bins[-1][1]


def climate_words(climate: ClimateValues) -> tuple[str, str, str]:
    """Word-mode descriptions (temperature, precipitation, solar radiation) of a month's climate."""
    return (
        _word(climate.temp_c, TEMP_WORDS),
        _word(climate.precip_mm_day, PRECIP_WORDS),
        _word(climate.solar_mj_m2_day, SOLAR_WORDS),
    )


def _spatial(inputs: PromptInputs, with_date: bool = True, with_location: bool = True) -> str:
    text = f"a {cloud_phrase(inputs.cloud_fraction)}satellite image of {inputs.land_cover}"
    if with_location:
        place = f"{inputs.state}, {inputs.country}" if inputs.state else inputs.country
        text += f" in {place}"
    if with_date:
        text += f" on {MONTH_NAMES[inputs.month.month - 1]} {inputs.month.year}"
    return text + "."


def climate_sentence(climate: ClimateValues, word_mode: bool = False) -> str:
    """The climate part appended to the spatial prompt (without its leading space)."""
    if word_mode:
        temp_word, precip_word, solar_word = climate_words(climate)
        return f"The weather over the last month was {temp_word}, {precip_word} and {solar_word}."
    temp = caption_integer(climate.temp_c)
    precip = caption_integer(climate.precip_mm_day)
    solar = caption_integer(climate.solar_mj_m2_day)
    # "W/m2" although the value is MJ/m^2/day: that is what the EcoMapper captions said.
    return (
        f"The average temperature over the last month was {temp} C. with an average precipitation {precip} mm, "
        f"and an average daily solar radiation of {solar} W/m2."
    )


def _assemble(spatial: str, climate: ClimateValues | None, word_mode: bool) -> Prompts:
    if climate is None:
        return Prompts(spatial=spatial, climate=spatial)
    return Prompts(spatial=spatial, climate=f"{spatial} {climate_sentence(climate, word_mode)}")


def build_prompts(inputs: PromptInputs, word_mode: bool = False) -> Prompts:
    """The full EcoMapper prompts (as used for evaluation and generation).

    Args:
        inputs: land cover, cloud, place, month and climate.
        word_mode: describe the climate in words instead of rounded numbers.

    Returns:
        Prompts(spatial, climate). Without climate the climate prompt equals the spatial prompt.
    """
    return _assemble(_spatial(inputs), inputs.climate, word_mode)


def dropout_prompts(
    inputs: PromptInputs,
    rng: _RandomSource | int,
    date_dropout: float = DEFAULT_DATE_DROPOUT,
    location_dropout: float = DEFAULT_LOCATION_DROPOUT,
    word_mode: bool = False,
) -> Prompts:
    """Training-time prompts with the date and location parts each dropped at random.

    Args:
        inputs: as for `build_prompts`.
        rng: a seeded `random.Random` or `numpy.random.Generator` (anything with `.random()`),
            or an int seed. Two draws are taken per call: date first, then location.
        date_dropout: probability of leaving out " on {Month} {year}".
        location_dropout: probability of leaving out " in {state}, {country}".
        word_mode: as for `build_prompts`.
    """
    for name, probability in (("date_dropout", date_dropout), ("location_dropout", location_dropout)):
        if not isinstance(probability, (int, float)) or not 0.0 <= probability <= 1.0:
            raise BadRequestError(f"{name}={probability!r} is not a probability.", f"Give {name} between 0 and 1.")
    source = random.Random(rng) if isinstance(rng, int) else rng
    keep_date = source.random() >= date_dropout
    keep_location = source.random() >= location_dropout
    return _assemble(_spatial(inputs, with_date=keep_date, with_location=keep_location), inputs.climate, word_mode)
