"""The Models tab runs only what the server's model policy offers (never what a client names)."""

from __future__ import annotations

from app.handlers.models import allowed_backend_ids
from core.model_policy import ModelPolicy
from core.models.backends.registry import BACKENDS, TINY_BACKENDS


def test_only_the_offered_real_backends_run_and_the_rest_say_how_to_offer_them(settings):
    policy = ModelPolicy.for_server("sd3-medium", settings.checkpoints_dir, models=("diffusionsat-256",))
    run, refused = allowed_backend_ids(settings.with_(model_policy=policy), "sd3-medium")
    assert run == ["sd3-medium", "diffusionsat-256"]
    assert [bid for bid, _ in refused] == [bid for bid in BACKENDS if bid not in run]
    assert all(f"--allow-model {bid}" in how for bid, how in refused)


def test_tiny_families_run_only_on_a_server_started_on_the_tiny_model(settings):
    policy = ModelPolicy.for_server("tiny-random", settings.checkpoints_dir)
    run, refused = allowed_backend_ids(settings.with_(model_policy=policy), "tiny-random")
    assert run == list(TINY_BACKENDS)
    assert len(refused) == len(BACKENDS)
    real_run, _ = allowed_backend_ids(settings.with_(model_policy=policy), "sd3-medium")
    assert not set(TINY_BACKENDS) & set(real_run)
