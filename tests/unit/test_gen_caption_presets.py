"""Caption presets against a reference written here from the original JSON files' semantics.

The reference below is deliberately independent of `core.generation.prompts`: it holds the masks as the
original `configs/caption/*.json` write them, splits the address at the first ", ", builds the
part texts from the original `CaptionBuilder`'s f-strings and draws with `random.choices` in the
original's order (cloud, land, date, location, climate). Same seed -> same caption.
"""

from __future__ import annotations

import calendar
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from core.climate.values import ClimateValues
from core.dataset.reader import parse_address, read_dataset
from core.generation.prompts import (
    CAPTION_PRESETS,
    PromptInputs,
    build_prompts,
    caption_prompts,
    caption_variants,
    climate_words,
    split_address,
)
from core.geo import Month
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

# The original files, as JSON text (commit fa37060 of maltevb/ecomapper).
ORIGINAL_JSON = {
    "fixed_caption": '{"masks": {"land": [0.0, 1.0], "cloud": [0.0, 1.0], "date": [0.0, 1.0, 0.0, 0.0],'
    ' "location": [0.0, 1.0, 0.0], "climate": [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]},'
    ' "use_numerical_values": true}',
    "skip_date_location": '{"masks": {"land": [0.0, 1.0], "cloud": [0.0, 1.0], "date": [0.25, 0.25, 0.25, 0.25],'
    ' "location": [0.5, 0.25, 0.25], "climate": [0.0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]},'
    ' "use_numerical_values": true}',
    "skip_date_location_word": '{"masks": {"land": [0.0, 1.0], "cloud": [0.0, 1.0],'
    ' "date": [0.25, 0.25, 0.25, 0.25], "location": [0.5, 0.25, 0.25],'
    ' "climate": [0.0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]}, "use_numerical_values": false}',
    "skip_all": '{"masks": {"land": [0.05, 0.95], "cloud": [0.1, 0.9], "date": [0.3, 0.2, 0.3, 0.2],'
    ' "location": [0.2, 0.5, 0.3], "climate": [0.2, 0.5, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]},'
    ' "use_numerical_values": true}',
    "skip_month_always": '{"masks": {"land": [0.0, 1.0], "cloud": [0.0, 1.0], "date": [0.75, 0.0, 0.0, 0.25],'
    ' "location": [0.0, 1, 0.0], "climate": [0.0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]},'
    ' "use_numerical_values": true}',
    "skip_weather_always": '{"masks": {"land": [0.0, 1.0], "cloud": [0.0, 1.0], "date": [0.0, 1.0, 0.0, 0.0],'
    ' "location": [0.0, 1.0, 0.0], "climate": [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]},'
    ' "use_numerical_values": true}',
    "skip_weather_data": '{"masks": {"land": [0.0, 1.0], "cloud": [0.0, 1.0], "date": [0.0, 0.1, 0.0, 0.0],'
    ' "location": [0.0, 0.1, 0.0], "climate": [1, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]},'
    ' "use_numerical_values": true}',
    "fixed_caption_diffsat": '{"masks": {"land": [0.0, 1.0], "cloud": [1.0, 0.0], "date": [1.0, 0.0, 0.0, 0.0],'
    ' "location": [0.0, 0.0, 1.0], "climate": [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]},'
    ' "use_numerical_values": true}',
}


def _reference_word(value: float, kind: str) -> str:
    if kind == "temp":
        for bound, word in (
            (-40, "Extremely Cold"),
            (-30, "Very Cold"),
            (-20, "Severely Cold"),
            (-10, "Cold"),
            (0, "Chilly"),
            (10, "Cool"),
            (20, "Mild"),
            (30, "Warm"),
            (40, "Hot"),
        ):
            if value < bound:
                return word
        return "Very Hot"
    if kind == "prep":
        for bound, word in (
            (1e-2, "No Precipitation"),
            (1, "Very Light"),
            (5, "Light"),
            (10, "Moderately Light"),
            (20, "Moderate"),
            (30, "Moderately Heavy"),
            (50, "Heavy"),
            (75, "Very Heavy"),
        ):
            if value <= bound:
                return word
        return "Extreme"
    for bound, word in (
        (2, "Extremely Low"),
        (5, "Very Low"),
        (10, "Low"),
        (15, "Moderate"),
        (20, "Somewhat High"),
        (25, "High"),
        (30, "Very High"),
        (40, "Extreme"),
    ):
        if value < bound:
            return word
    return "Ultra Extreme"


def reference_caption(row: dict, config: dict, rng: random.Random) -> tuple[str, str]:
    """The original CaptionBuilder.generate, re-derived from its JSON config semantics."""
    masks, numeric = config["masks"], config["use_numerical_values"]
    address = row["location_address"]
    state, country = address.split(", ", 1) if ", " in address else ("", address)
    year, month = (int(x) for x in row["date"].split("-"))
    month_name = calendar.month_name[month]
    cc = row["cloud_coverage"]
    cloud = "very cloudy " if cc > 0.7 else "cloudy " if cc > 0.5 else "partially cloudy " if cc > 0.3 else ""
    temp, prep, rad = row["average_temp"], row["average_prep"], row["average_rad"]
    if numeric:
        t, p, r = round(temp), round(prep), round(rad)
        climate = [
            "",
            f" The average temperature over the last month was {t} C. with an average precipitation {p} mm, "
            f"and an average daily solar radiation of {r} W/m2.",
            f" The average temperature over the last month was {t} C. with an average precipitation {p} mm",
            f" The average temperature over the last month was {t} C. and an average daily solar radiation "
            f"of {r} W/m2.",
            f" The average temperature over the last month was {t} C.",
            f" The average percipitation over the last month was {p} mm, and an average daily solar "
            f"radiation of {r} W/m2.",
            f" The average percipitation over the last month was {p} mm.",
            f" The average daily solar radiation over the last month was {r} W/m2.",
        ]
    else:
        t, p, r = _reference_word(temp, "temp"), _reference_word(prep, "prep"), _reference_word(rad, "rad")
        climate = [
            "",
            f" The average temperature over the last month was {t}, with {p} precipitation, "
            f"and {r} daily solar radiation.",
            f" The average temperature over the last month was {t}, with {p} precipitation",
            f" The average temperature over the last month was {t}, and {r} daily solar radiation.",
            f" The average temperature over the last month was {t}.",
            f" The average percipitation over the last month was {p}, and {r} daily solar radiation.",
            f" The average percipitation over the last month was {p}.",
            f" The average daily solar radiation over the last month was {r}.",
        ]
    location = [""] + (
        [f" in {country}", f" in {country}"] if state == "" else [f" in {state}, {country}", f" in {country}"]
    )
    picked_cloud = rng.choices(["", cloud], weights=masks["cloud"])[0]
    picked_land = rng.choices(["", f" of {row['type']}"], weights=masks["land"])[0]
    dates = ["", f" on {month_name} {year}", f" on {month_name}", f" on {year}"]
    picked_date = rng.choices(dates, weights=masks["date"])[0]
    picked_location = rng.choices(location, weights=masks["location"])[0]
    picked_climate = rng.choices(climate, weights=masks["climate"])[0]
    base = f"a {picked_cloud}satellite image{picked_land}{picked_location}{picked_date}."
    return base, base + picked_climate


_CLIMATE_RE = re.compile(r"was (-?[\d.]+) C with an average precipitation of ([\d.]+) mm.*?radiation of ([\d.]+)")


def _rows(example: Path) -> list[tuple[dict, PromptInputs]]:
    """Each sample as the original's CSV row (from its JSON file) and as our prompt inputs."""
    dataset = read_dataset(example)
    rows = []
    for sample in dataset.samples:
        raw = json.loads(sample.image_path.with_suffix(".json").read_text())
        info = raw.get("caption_info") or {}
        match = _CLIMATE_RE.search(info.get("climate_str_1", ""))
        if match is None:
            continue  # the original drops rows without climate (is_valid_row)
        address = info.get("location_address")
        if not address:
            continue
        row = {
            "type": raw["type"],
            "date": raw["date"],
            "cloud_coverage": raw["cloud_coverage"],
            "location_address": address,
            "average_temp": float(match.group(1)),
            "average_prep": float(match.group(2)),
            "average_rad": float(match.group(3)),
        }
        rows.append((row, sample.prompt_inputs))
    return rows


def test_presets_are_the_original_json_files():
    for name, text in ORIGINAL_JSON.items():
        config = json.loads(text)
        preset = CAPTION_PRESETS[name]
        for part, weights in config["masks"].items():
            assert tuple(float(w) for w in weights) == getattr(preset, part), (name, part)
        assert preset.use_numerical_values is config["use_numerical_values"]


def test_every_real_sample_under_every_preset_and_seed_matches_the_reference():
    rows = _rows(require_shared(ECOMAPPER_EXAMPLE))
    assert len(rows) >= 40  # two training locations x 24 months, minus near-empty images
    checked = 0
    for name, text in ORIGINAL_JSON.items():
        config = json.loads(text)
        for seed in (0, 1, 7, 333):
            ours_rng, reference_rng = random.Random(seed), random.Random(seed)
            for row, inputs in rows:
                ours = caption_prompts(inputs, name, ours_rng)
                expected = reference_caption(row, config, reference_rng)
                assert (ours.spatial, ours.climate) == expected, (name, seed, row["date"])
                checked += 1
    assert checked == len(ORIGINAL_JSON) * 4 * len(rows)


def test_fixed_caption_is_build_prompts_and_needs_no_randomness():
    rows = _rows(require_shared(ECOMAPPER_EXAMPLE))
    for _, inputs in rows:
        assert caption_prompts(inputs, "fixed_caption") == build_prompts(inputs)
        assert caption_prompts(inputs, "fixed_caption_words") == build_prompts(inputs, word_mode=True)


def _inputs(state: str | None = "Krasnoyarsk Krai") -> PromptInputs:
    return PromptInputs("Mixed Forests", 0.6, "Russia", state, Month(2021, 1), ClimateValues(-24.38, 1.27, 1.93))


@pytest.mark.parametrize("name", sorted(CAPTION_PRESETS))
def test_part_frequencies_over_10000_draws_are_within_2_percent(name):
    preset = CAPTION_PRESETS[name]
    inputs = _inputs()
    rng = random.Random(12345)
    counts: dict[str, Counter] = {part: Counter() for part in ("land", "cloud", "date", "location", "climate")}
    draws = 10_000
    month_year, month_only, year_only = " on January 2021.", " on January.", " on 2021."
    for _ in range(draws):
        spatial, climate = (p := caption_prompts(inputs, preset, rng)).spatial, p.climate
        counts["land"]["kept" if " of Mixed Forests" in spatial else "dropped"] += 1
        counts["cloud"]["kept" if spatial.startswith("a cloudy ") else "dropped"] += 1
        date = next((d for d in (month_year, month_only, year_only) if spatial.endswith(d)), "dropped")
        counts["date"][date] += 1
        location = (
            "state"
            if " in Krasnoyarsk Krai, Russia" in spatial
            else "country"
            if " in Russia" in spatial
            else "dropped"
        )
        counts["location"][location] += 1
        tail = climate[len(spatial) :]
        full = "precipitation 1 mm, and" in tail or "precipitation, and" in tail
        counts["climate"]["full" if full else "dropped" if not tail else "partial"] += 1
    probabilities = {part: preset.probabilities(part) for part in counts}
    expected = {
        "land": {"dropped": probabilities["land"][0], "kept": probabilities["land"][1]},
        "cloud": {"dropped": probabilities["cloud"][0], "kept": probabilities["cloud"][1]},
        "date": dict(zip(("dropped", month_year, month_only, year_only), probabilities["date"], strict=True)),
        "location": dict(zip(("dropped", "state", "country"), probabilities["location"], strict=True)),
        "climate": {
            "dropped": probabilities["climate"][0],
            "full": probabilities["climate"][1],
            "partial": sum(probabilities["climate"][2:]),
        },
    }
    for part, wanted in expected.items():
        for variant, probability in wanted.items():
            assert abs(counts[part][variant] / draws - probability) <= 0.02, (name, part, variant)


def test_without_a_state_both_location_variants_name_the_country():
    captions = {caption_prompts(_inputs(state=None), "skip_date_location", s).spatial for s in range(200)}
    assert all(" in Krasnoyarsk" not in c for c in captions)
    assert any(" in Russia" in c for c in captions)


def test_variants_cover_every_draw():
    inputs = _inputs()
    variants = caption_variants(inputs, "skip_all")
    rng = random.Random(3)
    for _ in range(500):
        assert caption_prompts(inputs, "skip_all", rng) in variants
    assert len(caption_variants(inputs, "fixed_caption")) == 1


def test_original_words():
    assert climate_words(ClimateValues(-24.38, 1.27, 1.93)) == ("Severely Cold", "Light", "Extremely Low")
    assert climate_words(ClimateValues(0.0, 0.01, 2.0)) == ("Cool", "No Precipitation", "Very Low")
    assert climate_words(ClimateValues(-0.1, 1.0, 40.0)) == ("Chilly", "Very Light", "Ultra Extreme")
    assert climate_words(ClimateValues(45.0, 80.0, 29.9)) == ("Very Hot", "Extreme", "Very High")
    prompts = build_prompts(_inputs(), word_mode=True)
    assert prompts.climate == prompts.spatial + (
        " The average temperature over the last month was Severely Cold, with Light precipitation,"
        " and Extremely Low daily solar radiation."
    )


def test_address_split_at_the_first_comma_space():
    assert split_address("Krasnoyarsk Krai, Russia") == ("Krasnoyarsk Krai", "Russia")
    assert split_address("Sud-Kivu, Democratic Republic of the Congo") == (
        "Sud-Kivu",
        "Democratic Republic of the Congo",
    )
    assert split_address("Bonaire, Sint Eustatius and Saba, Netherlands") == (
        "Bonaire",
        "Sint Eustatius and Saba, Netherlands",
    )
    assert split_address("Canada") == (None, "Canada")
    assert parse_address("Bonaire, Sint Eustatius and Saba, Netherlands") == (
        "Bonaire",
        "Sint Eustatius and Saba, Netherlands",
    )
