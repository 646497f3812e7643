"""The app's model holder keeps the loaded base across mode, ControlNet and LoRA-scale switches."""

from __future__ import annotations

from app.state import EngineHolder
from core.models.loading import LOAD_COUNTS
from core.services import ModelSpec, load_engine, shared_engine_loader
from tests.support.gen_tiny_weights import save_tiny_controlnet


def _delta(before: dict[str, int]) -> dict[str, int]:
    return {key: LOAD_COUNTS[key] - before.get(key, 0) for key in ("base", "controlnet")}


def test_text_controlnet_text_loads_the_base_once(settings, tmp_path):
    settings = settings.with_(offline=True)
    controlnet = str(save_tiny_controlnet(tmp_path / "controlnet"))
    text, with_controlnet = ModelSpec("tiny-random"), ModelSpec("tiny-random", controlnet=controlnet)

    holder = EngineHolder(shared_engine_loader())
    before = dict(LOAD_COUNTS)
    first = holder.get(text, settings)
    switched = holder.get(with_controlnet, settings)
    back = holder.get(text, settings)
    again = holder.get(with_controlnet, settings)
    assert _delta(before) == {"base": 1, "controlnet": 1}
    assert first.loaded is switched.loaded is back.loaded is again.loaded
    assert again.loaded.origins["controlnet"] == "path"  # the ControlNet asked for is the one attached

    # the one-shot loader (the CLI's) reads the base again for every switch
    plain = EngineHolder(load_engine)
    before = dict(LOAD_COUNTS)
    plain.get(text, settings)
    plain.get(with_controlnet, settings)
    plain.get(text, settings)
    assert _delta(before)["base"] == 3
