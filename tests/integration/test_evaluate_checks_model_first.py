"""A mistyped model id stops `evaluate` before any metric weights are looked for or downloaded."""

from __future__ import annotations

import logging

from core.cli import main
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared


def test_an_unknown_model_fails_before_metric_weights_are_resolved(tmp_path, monkeypatch, capsys, caplog):
    example = require_shared(ECOMAPPER_EXAMPLE)
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    out = tmp_path / "report"
    caplog.set_level(logging.WARNING)
    code = main(["evaluate", "--model", "nosuch-model", "--data", str(example), "--out", str(out), "--no-download"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Unknown model 'nosuch-model'") and len(err.splitlines()) == 1
    # Metric weights were never looked for (each missing one would log "is not computed"), nothing written.
    assert not [r for r in caplog.records if "not computed" in r.getMessage()]
    assert not out.exists()
