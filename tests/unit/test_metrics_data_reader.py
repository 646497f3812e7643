"""The EcoMapper dataset reader on the real example samples and on damaged copies of them."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.dataset.reader import Sample, find_pixel_problems, parse_address, read_dataset, split_locations
from core.errors import BadRequestError
from core.geo import Month
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared


@pytest.fixture
def example() -> Path:
    return require_shared(ECOMAPPER_EXAMPLE)


def _copy_location(example: Path, rel: str, dest: Path) -> Path:
    target = dest / rel
    shutil.copytree(example / rel, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_reads_the_real_example_and_skips_near_empty_pngs(example):
    dataset = read_dataset(example)
    n_png = len(list(example.rglob("*_*.png")))
    assert len(dataset) + len(dataset.skipped) == n_png
    assert dataset.location_ids == ("2017-2018/1", "2021-2022/9137", "Test-Batch/4451")
    skipped_names = sorted(item.path.name for item in dataset.skipped)
    # the two known flat PNGs: 966 bytes of nodata and 1878 bytes of white cloud
    assert skipped_names == ["1_2017-04.png", "4451_2022-07.png"]
    assert dataset.skip_counts() == {"near-empty image": 2}
    assert all("bytes" in item.reason for item in dataset.skipped)


def test_metadata_matches_the_json_it_came_from(example):
    dataset = read_dataset(example)
    sample = dataset.get("2021-2022/9137@2021-07")
    assert sample is not None
    record = json.loads((example / "2021-2022/9137/9137_2021-07.json").read_text())
    meta = sample.metadata
    assert meta.month == Month(2021, 7)
    assert (meta.point.lat, meta.point.lon) == tuple(record["center_coordinates"])
    assert meta.land_cover == record["type"] == "Mixed Forests"
    assert meta.cloud_fraction == record["cloud_coverage"]
    assert (meta.state, meta.country) == ("Krasnoyarsk Krai", "Russia")
    # "The average temperature over the last month was 17.02 C with ... 3.46 mm ... 20.84 kWh/m2"
    words = record["caption_info"]["climate_str_1"].split()
    numbers = [float(w) for w in words if w.replace(".", "", 1).lstrip("-").isdigit()]
    assert meta.climate.as_dict() == dict(zip(("temp_c", "precip_mm_day", "solar_mj_m2_day"), numbers, strict=True))


def test_full_precision_climate_values_win_over_the_rounded_caption(example, tmp_path):
    # The dataset builder writes `climate_values` beside the 2-decimal caption strings.
    folder = _copy_location(example, "2021-2022/9137", tmp_path)
    json_path = folder / "9137_2021-07.json"
    record = json.loads(json_path.read_text())
    exact = {"temp_c": 17.0213, "precip_mm_day": 3.4567, "solar_mj_m2_day": 20.8449}
    json_path.write_text(json.dumps({**record, "climate_values": exact}))
    broken = folder / "9137_2021-08.json"
    broken.write_text(json.dumps({**json.loads(broken.read_text()), "climate_values": {"temp_c": 1.0}}))
    dataset = read_dataset(tmp_path)
    assert dataset.get("2021-2022/9137@2021-07").metadata.climate.as_dict() == exact
    assert dataset.get("2021-2022/9137@2021-08") is None
    assert [item.path.name for item in dataset.skipped if "incomplete" in item.reason] == ["9137_2021-08.json"]


def test_test_batch_has_no_climate_and_image_loads_lazily(example):
    dataset = read_dataset(example)
    sample = dataset.get("Test-Batch/4451@2017-01")
    assert sample.metadata.climate is None
    assert sample.metadata.land_cover == "Woody Savannas"
    image = sample.image
    assert image.dtype == np.uint8 and image.shape == (512, 512, 3)
    assert np.array_equal(image, np.asarray(Image.open(sample.image_path).convert("RGB")))


def test_previous_sample_skips_a_missing_month(example):
    dataset = read_dataset(example)
    may = dataset.get("2017-2018/1@2017-05")
    # 2017-04 was skipped (near-empty), so the control image is 2017-03
    assert dataset.previous_sample(may).month == Month(2017, 3)
    first = dataset.get("2017-2018/1@2017-01")
    assert dataset.previous_sample(first) is None


def test_damaged_files_are_skipped_with_a_reason_each(example, tmp_path):
    loc = _copy_location(example, "2021-2022/9137", tmp_path)
    (loc / "9137_2021-01.png").write_bytes((loc / "9137_2021-01.png").read_bytes()[:5000])  # truncated
    record = json.loads((loc / "9137_2021-02.json").read_text())
    record["type"] = "null"
    (loc / "9137_2021-02.json").write_text(json.dumps(record))
    record = json.loads((loc / "9137_2021-03.json").read_text())
    del record["center_coordinates"]
    (loc / "9137_2021-03.json").write_text(json.dumps(record))
    (loc / "9137_2021-04.json").write_text("{not json")
    (loc / "9137_2021-05.json").unlink()

    dataset = read_dataset(tmp_path)
    reasons = {item.path.name: item.reason for item in dataset.skipped}
    assert reasons["9137_2021-01.png"].startswith("corrupt image")
    assert reasons["9137_2021-02.json"] == "missing key: json key `type` is 'null'"
    assert reasons["9137_2021-03.json"] == "missing key: json key `center_coordinates` is missing"
    assert reasons["9137_2021-04.json"].startswith("corrupt json")
    assert reasons["9137_2021-05.png"].startswith("missing metadata")
    assert len(dataset) == 24 - 5
    assert dataset.skip_counts() == {
        "corrupt image": 1,
        "missing key": 2,
        "corrupt json": 1,
        "missing metadata": 1,
    }


def test_pixel_check_catches_a_mostly_nodata_image_that_the_header_check_lets_through(example, tmp_path):
    loc = _copy_location(example, "2021-2022/9137", tmp_path)
    image = np.asarray(Image.open(loc / "9137_2021-06.png").convert("RGB")).copy()
    image[:300] = 0  # 59 % nodata, still a large PNG
    Image.fromarray(image).save(loc / "9137_2021-06.png")
    assert read_dataset(tmp_path).get("2021-2022/9137@2021-06") is not None
    checked = read_dataset(tmp_path, check_pixels=True)
    assert checked.get("2021-2022/9137@2021-06") is None
    assert [item.reason for item in checked.skipped] == ["near-empty image: 59% of pixels are nodata (black)"]
    # the same check in shares (as evaluation processes do), pooled afterwards
    lazy = read_dataset(tmp_path)
    pooled = lazy.without(find_pixel_problems(lazy.samples[:10]) + find_pixel_problems(lazy.samples[10:]))
    assert [s.sample_id for s in pooled] == [s.sample_id for s in checked]
    assert pooled.skipped == checked.skipped
    with pytest.raises(BadRequestError, match="nodata"):
        _ = Sample(loc / "9137_2021-06.png", checked[0].metadata, loc / "x.json").image


def test_csv_variant_with_null_values(example, tmp_path):
    rows = [
        ["7", "2021-07-01", "56.35", "93.70", "Mixed Forests", "Krasnoyarsk Krai, Russia", "0.36", "17.02", "3.46",
         "20.84", str(example / "2021-2022/9137/9137_2021-07.png")],
        ["7", "2021-08", "56.35", "93.70", "Mixed Forests", "null", "0.1", "null", "null", "null",
         str(example / "2021-2022/9137/9137_2021-08.png")],
        ["7", "2021-09", "null", "93.70", "Mixed Forests", "Russia", "0.1", "1", "2", "3",
         str(example / "2021-2022/9137/9137_2021-09.png")],
        ["7", "2021-10", "56.35", "93.70", "Mixed Forests", "Russia", "0.1", "1", "null", "3",
         str(example / "2021-2022/9137/9137_2021-10.png")],
        ["7", "2021-11", "56.35", "93.70", "Mixed Forests", "Russia", "0.1", "1", "2", "3", "missing.png"],
    ]  # fmt: skip
    csv_path = tmp_path / "data.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["location_id", "date", "latitude", "longitude", "type", "location_address", "cloud_coverage",
             "average_temp", "average_prep", "average_rad", "img_path"]
        )  # fmt: skip
        writer.writerows(rows)
    dataset = read_dataset(csv_path, place_resolver=lambda point: (None, None))
    assert [s.sample_id for s in dataset] == ["7@2021-07", "7@2021-08"]
    first, second = dataset
    assert first.metadata.climate.temp_c == 17.02 and first.metadata.country == "Russia"
    assert second.metadata.climate is None and second.metadata.country is None
    reasons = sorted(item.reason for item in dataset.skipped)
    assert reasons[0].startswith("missing image")
    assert reasons[1] == "missing key: climate values are incomplete ('1', 'null', '3')"
    assert reasons[2] == "missing key: csv key `latitude` is 'null'"
    assert first.image.shape == (512, 512, 3)


def test_split_is_by_location_seeded_and_complete():
    ids = tuple(f"loc{i}" for i in range(20))
    first = split_locations(ids, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=3)
    assert first == split_locations(ids, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=3)
    assert [len(first[k]) for k in ("train", "val", "test")] == [16, 2, 2]
    assert sorted(sum(first.values(), ())) == sorted(ids)
    other = split_locations(ids, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=4)
    assert other != first
    with pytest.raises(BadRequestError, match="sum to 0"):
        split_locations(ids, {"train": 0.0})


def test_dataset_split_keeps_all_months_of_a_location_together(example):
    dataset = read_dataset(example)
    parts = dataset.split({"train": 2, "test": 1}, seed=0)
    assert len(parts["train"].location_ids) == 2 and len(parts["test"].location_ids) == 1
    assert len(parts["train"]) + len(parts["test"]) == len(dataset)
    assert not set(parts["train"].location_ids) & set(parts["test"].location_ids)


def test_wrong_path_and_empty_folder_give_clear_errors(tmp_path):
    with pytest.raises(BadRequestError, match="does not exist"):
        read_dataset(tmp_path / "nope")
    with pytest.raises(BadRequestError, match="No EcoMapper samples"):
        read_dataset(tmp_path)


def test_parse_address():
    # split as the original EcoMapper code does: at the first ", " only
    assert parse_address("Thompson-Nicola, British Columbia, Canada") == ("Thompson-Nicola", "British Columbia, Canada")
    assert parse_address("Krasnoyarsk Krai, Russia") == ("Krasnoyarsk Krai", "Russia")
    assert parse_address("Ethiopia") == (None, "Ethiopia")


def test_samples_carry_the_exact_evaluation_prompts(example):
    dataset = read_dataset(example)
    sample = dataset.get("2021-2022/9137@2021-07")
    # cloud 0.366 -> "partially cloudy "; climate 17.02 C, 3.46 mm, 20.84 rounded in the T5 prompt
    assert sample.prompts.spatial == (
        "a partially cloudy satellite image of Mixed Forests in Krasnoyarsk Krai, Russia on July 2021."
    )
    assert sample.prompts.climate.endswith(
        "The average temperature over the last month was 17 C. with an average precipitation 3 mm, "
        "and an average daily solar radiation of 21 W/m2."
    )
    # the test batch has no address: the offline reverse geocoder names the place
    savanna = dataset.get("Test-Batch/4451@2017-01")
    assert savanna.metadata.country == "Ethiopia"
    assert savanna.prompts.climate == savanna.prompts.spatial  # no climate in the test batch


def test_unknown_land_cover_is_skipped(example, tmp_path):
    loc = _copy_location(example, "2021-2022/9137", tmp_path)
    record = json.loads((loc / "9137_2021-07.json").read_text())
    record["type"] = "Water Bodies"
    (loc / "9137_2021-07.json").write_text(json.dumps(record))
    dataset = read_dataset(tmp_path)
    assert [item.reason for item in dataset.skipped] == [
        "unknown land cover: 'Water Bodies' is not one of the 15 EcoMapper classes"
    ]
