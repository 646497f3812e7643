"""Flow-matching math and the deterministic batch plan (no model needed)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from core.generation.prompts import PromptInputs, build_prompts
from core.geo import Month
from core.train.batches import BatchPlan, derived_seed, plan_micro_batch, prompt_variants
from core.train.config import DataConfig, OptimConfig
from core.train.examples import TrainingExample


def _inputs(month: Month = Month(2017, 7)) -> PromptInputs:
    return PromptInputs(
        land_cover="Evergreen Needleleaf Forests",
        cloud_fraction=0.4,
        country="Canada",
        state="British Columbia",
        month=month,
    )


@pytest.mark.slow
def test_noise_batch_follows_the_rectified_flow_and_is_reproducible():
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler

    from core.train.flow_matching import flow_matching_loss, noise_batch, training_schedule

    schedule = training_schedule(FlowMatchEulerDiscreteScheduler(shift=3.0))
    latents = torch.randn(64, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    optim = OptimConfig()
    first = noise_batch(latents, schedule, optim, torch.Generator().manual_seed(7))
    again = noise_batch(latents, schedule, optim, torch.Generator().manual_seed(7))
    assert torch.equal(first.noisy_latents, again.noisy_latents)
    assert torch.equal(first.timesteps, again.timesteps)
    sigmas = first.sigmas.flatten()
    assert bool(((sigmas > 0) & (sigmas <= 1)).all())
    # timesteps are the scheduler's: sigma * 1000
    assert torch.allclose(first.timesteps, sigmas * 1000, atol=1e-3)
    # x_t = (1 - s) x0 + s n and target = n - x0  =>  x0 = x_t - s * target
    recovered = first.noisy_latents - first.sigmas * first.target
    assert torch.allclose(recovered, latents, atol=1e-5)
    # logit-normal with the SD3 shift puts most mass at high noise: median sigma well above 0.5
    assert float(sigmas.median()) > 0.5
    # the loss of a perfect prediction is 0, of predicting zeros the mean squared target
    assert float(flow_matching_loss(first.target, first, "logit_normal")) == pytest.approx(0.0, abs=1e-10)
    zero_loss = float(flow_matching_loss(torch.zeros_like(first.target), first, "logit_normal"))
    assert zero_loss == pytest.approx(float((first.target**2).mean()), rel=1e-5)


def test_batch_plan_covers_every_target_once_per_epoch_and_splits_processes():
    plan = BatchPlan(targets=tuple(range(10)), batch_size=2, num_processes=1, seed=3)
    first_epoch = [i for step in range(5) for i in plan.example_indices(step, 0)]
    assert sorted(first_epoch) == list(range(10))
    second_epoch = [i for step in range(5, 10) for i in plan.example_indices(step, 0)]
    assert sorted(second_epoch) == list(range(10)) and second_epoch != first_epoch
    assert plan.example_indices(4, 0) == BatchPlan(tuple(range(10)), 2, 1, 3).example_indices(4, 0)
    two = BatchPlan(targets=tuple(range(8)), batch_size=2, num_processes=2, seed=3)
    step0 = two.example_indices(0, 0) + two.example_indices(0, 1)
    step1 = two.example_indices(1, 0) + two.example_indices(1, 1)
    assert sorted(step0 + step1) == list(range(8))  # the processes never share a sample in an epoch


def test_planned_prompts_follow_the_caption_preset_and_controls_from_the_earlier_months():
    examples = [
        TrainingExample("a@2017-07", None, _inputs(), control_indices=(1, 2)),
        TrainingExample("a@2017-06", None, _inputs(Month(2017, 6))),
        TrainingExample("a@2017-05", None, _inputs(Month(2017, 5))),
    ]
    plan = BatchPlan(targets=(0,), batch_size=1, num_processes=1, seed=0)
    data = DataConfig(caption_preset="skip_date_location")
    items = [plan_micro_batch(plan, examples, step, 0, data, "controlnet")[0] for step in range(200)]
    full = build_prompts(_inputs()).spatial
    spatial_forms = Counter(item.spatial_prompt for item in items)
    # the paper's preset: 4 date forms x 3 location forms
    assert full in spatial_forms and len(spatial_forms) == 12
    assert {item.control_index for item in items} == {1, 2}
    assert set(spatial_forms) == {pair[0] for pair in prompt_variants(_inputs(), data)}
    # the ControlNet reads the control month's own caption (the original's control_caption_*)
    for item in items[:20]:
        control_month = examples[item.control_index].prompt_inputs.month
        assert item.control_climate_prompt.startswith(item.control_spatial_prompt)
        if " on " in item.control_spatial_prompt and " on 2017." not in item.control_spatial_prompt:
            assert build_prompts(examples[item.control_index].prompt_inputs).spatial.split(" on ")[1].split()[0] in (
                item.control_spatial_prompt
            ), control_month
    again = plan_micro_batch(plan, examples, 17, 0, data, "controlnet")[0]
    assert again == items[17]
    fixed = DataConfig(caption_preset="fixed_caption")
    no_dropout = plan_micro_batch(plan, examples, 3, 0, fixed, "lora")
    assert no_dropout[0].spatial_prompt == full and no_dropout[0].control_index is None
    assert prompt_variants(_inputs(), fixed) == [(full, build_prompts(_inputs()).climate)]


def test_derived_seeds_differ_per_part():
    seeds = {derived_seed(0, "noise", step, 0) for step in range(1000)}
    assert len(seeds) == 1000
    assert derived_seed(1, "x") == derived_seed(1, "x")
    assert 0 <= derived_seed(random.random()) < 2**63


def test_controlnet_examples_pair_each_month_with_earlier_months_of_the_same_place():
    from core.train.config import TrainConfig
    from core.train.examples import load_examples, target_indices
    from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

    data_dir = require_shared(ECOMAPPER_EXAMPLE)
    config = TrainConfig.from_dict(
        {"mode": "controlnet", "base_model": "tiny-random", "data": {"data_dir": str(data_dir), "resolution_px": 64}}
    )
    examples = load_examples(config)
    targets = target_indices(examples, "controlnet")
    assert targets and len(targets) < len(examples)  # each place's first month has no earlier month
    for index in targets:
        location, month = examples[index].sample_id.split("@")
        for control in examples[index].control_indices:
            control_location, control_month = examples[control].sample_id.split("@")
            assert control_location == location
            assert 1 <= Month.parse(month) - Month.parse(control_month) <= 6
    by_id = {example.sample_id: example for example in examples}
    assert "2017-2018/1@2017-04" not in by_id  # the near-empty PNG is left out ...
    may = by_id["2017-2018/1@2017-05"]
    assert [examples[c].sample_id for c in may.control_indices] == [
        "2017-2018/1@2017-03",  # ... so May's nearest control is March
        "2017-2018/1@2017-02",
        "2017-2018/1@2017-01",
    ]
    assert by_id["2017-2018/1@2017-01"].control_indices == ()


@pytest.mark.slow
def test_building_the_controlnet_leaves_the_transformer_reloadable(tmp_path):
    from diffusers import SD3Transformer2DModel

    from core.models.tiny import build_tiny_transformer
    from core.train.adapters import build_controlnet

    transformer = build_tiny_transformer(seed=4)
    before = dict(transformer.config)
    controlnet = build_controlnet(transformer, num_layers=1)
    assert controlnet.config.num_layers == 1 and controlnet.config.extra_conditioning_channels == 0
    assert dict(transformer.config) == before  # diffusers' from_transformer edits the config it is given
    transformer.save_pretrained(tmp_path / "transformer")
    reloaded = SD3Transformer2DModel.from_pretrained(tmp_path / "transformer")
    assert reloaded.config.num_layers == transformer.config.num_layers
    # the ControlNet starts from the transformer's first block and a zero input projection
    block = "transformer_blocks.0.attn.to_q.weight"
    assert (controlnet.state_dict()[block] == transformer.state_dict()[block]).all()
    assert float(controlnet.pos_embed_input.proj.weight.detach().abs().sum()) == 0.0


def test_loss_log_resume_keeps_complete_rows_up_to_the_checkpoint_and_drops_a_torn_row(tmp_path):
    from core.train.run_files import LossLog, read_loss_log

    path = tmp_path / "loss.csv"
    log = LossLog(path, None)
    for step in (1, 2, 3):
        log.append(step, 0.5 / step, 1e-4, 0, float(step))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("1")  # a crash while appending step 10..19: only its first digit reached the file
    LossLog(path, resume_step=2)
    assert read_loss_log(path) == [(1, 0.5), (2, 0.25)]
