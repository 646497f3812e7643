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

Word mode (the original's `use_numerical_values: false`): the numbers are replaced by the
descriptive words of EcoMapper's `create_captions.get_descriptive_word` ("Chilly", "Light",
"Very Low", ...) in the original's sentence " The average temperature over the last month was
{T}, with {P} precipitation, and {R} daily solar radiation.".

Caption presets (`CAPTION_PRESETS`, `caption_prompts`): the original's `configs/caption/*.json`.
Each part of the caption is a random choice among its variants with the preset's weights
(land: dropped / kept; cloud: dropped / kept; date: dropped / month and year / month / year;
location: dropped / state and country / country; climate: 8 variants), drawn with
`random.choices` in the original's order (cloud, land, date, location, climate), so a
`random.Random(seed)` gives the same captions as the original `CaptionBuilder` with that seed.
`skip_date_location` is the paper's training preset, `fixed_caption` the evaluation one (it
equals `build_prompts`).

`split_address` splits a dataset address as the original does: at the first ", " only.
"""

from __future__ import annotations

import difflib
import logging
import math
import random
from dataclasses import dataclass
from typing import Any, Protocol

from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.geo import Month
from core.sources.land_cover_classes import LAND_COVER_CLASSES

log = logging.getLogger(__name__)

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

# Word-mode words, from EcoMapper's `create_captions.get_descriptive_word`.
# Temperature (deg C) and radiation: (upper bound, exclusive; word); the last entry catches the rest.
TEMP_WORDS = (
    (-40.0, "Extremely Cold"),
    (-30.0, "Very Cold"),
    (-20.0, "Severely Cold"),
    (-10.0, "Cold"),
    (0.0, "Chilly"),
    (10.0, "Cool"),
    (20.0, "Mild"),
    (30.0, "Warm"),
    (40.0, "Hot"),
    (math.inf, "Very Hot"),
)
# Precipitation (mm/day): (upper bound, INCLUSIVE; word), as the original's `value <= bound` tests.
PRECIP_WORDS = (
    (1e-2, "No Precipitation"),
    (1.0, "Very Light"),
    (5.0, "Light"),
    (10.0, "Moderately Light"),
    (20.0, "Moderate"),
    (30.0, "Moderately Heavy"),
    (50.0, "Heavy"),
    (75.0, "Very Heavy"),
    (math.inf, "Extreme"),
)
SOLAR_WORDS = (
    (2.0, "Extremely Low"),
    (5.0, "Very Low"),
    (10.0, "Low"),
    (15.0, "Moderate"),
    (20.0, "Somewhat High"),
    (25.0, "High"),
    (30.0, "Very High"),
    (40.0, "Extreme"),
    (math.inf, "Ultra Extreme"),
)

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


# The negative branch of classifier-free guidance: the empty prompt pair.
NEGATIVE_PROMPTS = Prompts(spatial="", climate="")
# Guidance above this uses classifier-free guidance (an extra, negative, branch), as in diffusers.
CFG_THRESHOLD = 1.0


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

    @classmethod
    def of(cls, record: Any) -> PromptInputs:
        """What `record` says (a request, a dataset sample's metadata: anything with these six fields)."""
        return cls(**{name: getattr(record, name) for name in cls.__dataclass_fields__})

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
                "Pass core.climate.values.ClimateValues(temp_c, precip_mm_day, solar_mj_m2_day) or None.",
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


def _word(value: float, bins: tuple[tuple[float, str], ...], inclusive: bool = False) -> str:
    for bound, word in bins:
        if value < bound or (inclusive and value == bound):
            return word
    return bins[-1][1]


def climate_words(climate: ClimateValues) -> tuple[str, str, str]:
    """Word-mode descriptions (temperature, precipitation, solar radiation), as the original's words."""
    return (
        _word(climate.temp_c, TEMP_WORDS),
        _word(climate.precip_mm_day, PRECIP_WORDS, inclusive=True),
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
    return climate_variants(climate, word_mode)[1].lstrip(" ")


def climate_variants(climate: ClimateValues, word_mode: bool = False) -> tuple[str, ...]:
    """The original's 8 climate-caption variants, each with its leading space (index 0: dropped).

    Order: dropped, (T, P, R), (T, P), (T, R), (T), (P, R), (P), (R). The spelling ("percipitation"),
    the missing full stop of the (T, P) variant and "W/m2" for MJ/m^2/day are the original's.
    """
    if word_mode:
        temp, precip, solar = climate_words(climate)
        return (
            "",
            f" The average temperature over the last month was {temp}, with {precip} precipitation, "
            f"and {solar} daily solar radiation.",
            f" The average temperature over the last month was {temp}, with {precip} precipitation",
            f" The average temperature over the last month was {temp}, and {solar} daily solar radiation.",
            f" The average temperature over the last month was {temp}.",
            f" The average percipitation over the last month was {precip}, and {solar} daily solar radiation.",
            f" The average percipitation over the last month was {precip}.",
            f" The average daily solar radiation over the last month was {solar}.",
        )
    temp = caption_integer(climate.temp_c)
    precip = caption_integer(climate.precip_mm_day)
    solar = caption_integer(climate.solar_mj_m2_day)
    return (
        "",
        f" The average temperature over the last month was {temp} C. with an average precipitation {precip} mm, "
        f"and an average daily solar radiation of {solar} W/m2.",
        f" The average temperature over the last month was {temp} C. with an average precipitation {precip} mm",
        f" The average temperature over the last month was {temp} C. and an average daily solar radiation of "
        f"{solar} W/m2.",
        f" The average temperature over the last month was {temp} C.",
        f" The average percipitation over the last month was {precip} mm, and an average daily solar radiation "
        f"of {solar} W/m2.",
        f" The average percipitation over the last month was {precip} mm.",
        f" The average daily solar radiation over the last month was {solar} W/m2.",
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


# --------------------------------------------------------------------------- caption presets


@dataclass(frozen=True)
class CaptionPreset:
    """One of the original's `configs/caption/*.json`: per caption part, the weights of its variants.

    Weights are relative, as `random.choices` takes them (they need not sum to 1).
    """

    name: str
    land: tuple[float, float]  # dropped, "of {land cover}"
    cloud: tuple[float, float]  # dropped, cloud words
    date: tuple[float, float, float, float]  # dropped, month and year, month, year
    location: tuple[float, float, float]  # dropped, state and country, country
    climate: tuple[float, float, float, float, float, float, float, float]  # see `climate_variants`
    use_numerical_values: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        for part in ("land", "cloud", "date", "location", "climate"):
            weights = getattr(self, part)
            if any(w < 0 for w in weights) or sum(weights) <= 0:
                raise BadRequestError(
                    f"Caption preset {self.name!r}: the {part} weights {weights} are not usable.",
                    "Give non-negative weights with a positive sum.",
                )

    def probabilities(self, part: str) -> tuple[float, ...]:
        weights = getattr(self, part)
        total = sum(weights)
        return tuple(w / total for w in weights)


_KEPT = (0.0, 1.0)  # a part that is always in the caption
_FULL_CLIMATE = (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
_NO_CLIMATE = (1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
_MONTH_AND_YEAR = (0.0, 1.0, 0.0, 0.0)
_STATE_AND_COUNTRY = (0.0, 1.0, 0.0)
_ANY_DATE = (0.25, 0.25, 0.25, 0.25)
_ANY_LOCATION = (0.5, 0.25, 0.25)

# The original repository's configs/caption/*.json (commit fa37060), value for value: one row per preset,
# in CaptionPreset's field order (name, land, cloud, date, location, climate, numbers, source).
# skip_weather_data.json gives date and location weights of 0.1: relative weights, so always kept.
# fixed_caption_word.json, as the original ships it, says "use_numerical_values": true: it equals
# fixed_caption.json, so the original's "word" runs captioned (and were evaluated) with numbers. Loading that
# name does what the file did; `fixed_caption_words` (our name) is the original CaptionBuilder with
# use_numerical_values=False, i.e. real words.
_PRESET_ROWS = (
    ("fixed_caption", _KEPT, _KEPT, _MONTH_AND_YEAR, _STATE_AND_COUNTRY, _FULL_CLIMATE, True, "fixed_caption.json"),
    ("skip_date_location", _KEPT, _KEPT, _ANY_DATE, _ANY_LOCATION, _FULL_CLIMATE, True, "skip_date_location.json"),
    ("skip_date_location_word", _KEPT, _KEPT, _ANY_DATE, _ANY_LOCATION, _FULL_CLIMATE, False,
     "skip_date_location_word.json"),
    ("skip_all", (0.05, 0.95), (0.1, 0.9), (0.3, 0.2, 0.3, 0.2), (0.2, 0.5, 0.3),
     (0.2, 0.5, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05), True, "skip_all.json"),
    ("skip_month_always", _KEPT, _KEPT, (0.75, 0.0, 0.0, 0.25), _STATE_AND_COUNTRY, _FULL_CLIMATE, True,
     "skip_month_always.json"),
    ("skip_weather_always", _KEPT, _KEPT, _MONTH_AND_YEAR, _STATE_AND_COUNTRY, _NO_CLIMATE, True,
     "skip_weather_always.json"),
    ("skip_weather_data", _KEPT, _KEPT, (0.0, 0.1, 0.0, 0.0), (0.0, 0.1, 0.0), _NO_CLIMATE, True,
     "skip_weather_data.json"),
    ("fixed_caption_diffsat", _KEPT, (1.0, 0.0), (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 1.0), _NO_CLIMATE, True,
     "fixed_caption_diffsat.json"),
    ("fixed_caption_word", _KEPT, _KEPT, _MONTH_AND_YEAR, _STATE_AND_COUNTRY, _FULL_CLIMATE, True,
     "fixed_caption_word.json (use_numerical_values: true, despite its name: numbers, as fixed_caption)"),
    ("fixed_caption_words", _KEPT, _KEPT, _MONTH_AND_YEAR, _STATE_AND_COUNTRY, _FULL_CLIMATE, False,
     "ours: create_captions.py CaptionBuilder(use_numerical_values=False), the climate in words"),
)  # fmt: skip
# Original preset names that do not do what they say: the name -> what it really does.
MISLEADING_PRESET_NAMES = {
    "fixed_caption_word": "numbers, not words (the original file sets use_numerical_values: true); "
    "for words use fixed_caption_words",
}
CAPTION_PRESETS: dict[str, CaptionPreset] = {row[0]: CaptionPreset(*row) for row in _PRESET_ROWS}
PAPER_TRAINING_PRESET = "skip_date_location"
PAPER_EVALUATION_PRESET = "fixed_caption"


class _ChoiceSource(Protocol):
    def choices(self, population, weights=None, *, cum_weights=None, k=1): ...


def caption_preset(name: str) -> CaptionPreset:
    """The preset called `name`; BadRequestError naming the known ones otherwise."""
    try:
        preset = CAPTION_PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), CAPTION_PRESETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise BadRequestError(
            f"Unknown caption preset {name!r}.{hint}",
            f"Use one of {', '.join(CAPTION_PRESETS)} (the paper trains with {PAPER_TRAINING_PRESET!r}).",
        ) from None
    if name in MISLEADING_PRESET_NAMES:
        log.warning("caption preset %s gives %s", name, MISLEADING_PRESET_NAMES[name])
    return preset


def caption_options(inputs: PromptInputs, word_mode: bool = False) -> dict[str, tuple[str, ...]]:
    """Every variant of every caption part, in the order of the preset weights."""
    month = MONTH_NAMES[inputs.month.month - 1]
    year = inputs.month.year
    country = inputs.country
    location = f" in {inputs.state}, {country}" if inputs.state else f" in {country}"
    climate = climate_variants(inputs.climate, word_mode) if inputs.climate is not None else ("",) * 8
    return {
        "cloud": ("", cloud_phrase(inputs.cloud_fraction)),
        "land": ("", f" of {inputs.land_cover}"),
        "date": ("", f" on {month} {year}", f" on {month}", f" on {year}"),
        "location": ("", location, f" in {country}"),
        "climate": climate,
    }


# The original draws the parts in this order; keeping it keeps a seeded stream identical.
DRAW_ORDER = ("cloud", "land", "date", "location", "climate")


def compose_caption(choices: dict[str, str]) -> Prompts:
    """Join chosen part texts the original's way: `a {cloud}satellite image{land}{location}{date}.` + climate."""
    spatial = f"a {choices['cloud']}satellite image{choices['land']}{choices['location']}{choices['date']}."
    return Prompts(spatial=spatial, climate=spatial + choices["climate"])


def caption_prompts(
    inputs: PromptInputs, preset: CaptionPreset | str, rng: _ChoiceSource | int | None = None
) -> Prompts:
    """The prompts of one sample under a caption preset, drawn with `rng.choices` in the original's order.

    Args:
        inputs: land cover, cloud, place, month and climate.
        preset: a `CaptionPreset` or its name (see `CAPTION_PRESETS`).
        rng: a `random.Random` (or an int seed); None for presets where every part is fixed.

    Returns:
        Prompts(spatial, climate). Without climate values the climate prompt is the spatial one.
    """
    preset = caption_preset(preset) if isinstance(preset, str) else preset
    source = random.Random(rng) if isinstance(rng, int) or rng is None else rng
    options = caption_options(inputs, word_mode=not preset.use_numerical_values)
    chosen = {part: source.choices(options[part], weights=getattr(preset, part))[0] for part in DRAW_ORDER}
    return compose_caption(chosen)


def caption_variants(inputs: PromptInputs, preset: CaptionPreset | str) -> list[Prompts]:
    """Every distinct caption a preset can give for one sample (for caches of text embeddings)."""
    import itertools

    preset = caption_preset(preset) if isinstance(preset, str) else preset
    options = caption_options(inputs, word_mode=not preset.use_numerical_values)
    possible = [
        [text for text, weight in zip(options[part], getattr(preset, part), strict=True) if weight > 0]
        for part in DRAW_ORDER
    ]
    seen: list[Prompts] = []
    for combination in itertools.product(*possible):
        prompts = compose_caption(dict(zip(DRAW_ORDER, combination, strict=True)))
        if prompts not in seen:
            seen.append(prompts)
    return seen


def split_address(address: str) -> tuple[str | None, str]:
    """(state, country) from a dataset address, split as the original at the first ", " only.

    "Krasnoyarsk Krai, Russia" -> ("Krasnoyarsk Krai", "Russia"); "A, B, C" -> ("A", "B, C");
    "Canada" -> (None, "Canada").
    """
    text = str(address)
    if ", " in text:
        state, country = text.split(", ", 1)
        return (state or None), country
    return None, text
