"""Errors stay one line even when they quote a multi-line cause; known library noise stays off stderr."""

from __future__ import annotations

from core.errors import UpstreamError


def test_a_multi_line_cause_becomes_one_line():
    err = UpstreamError("The service said:\n  bad things\n\nhappened.", "Retry\nlater.", service="x", status=500)
    assert str(err) == "The service said: bad things happened. Retry later."
    assert err.problem == "The service said: bad things happened." and err.fix == "Retry later."
    assert err.status == 500


def test_the_cli_drops_only_the_torchvision_fallback_notice(caplog):
    import logging

    from core.cli import quiet_known_library_notices

    quiet_known_library_notices()
    quiet_known_library_notices()  # idempotent: one filter
    logger = logging.getLogger("transformers.utils.import_utils")
    assert len(logger.filters) == 1
    with caplog.at_level(logging.WARNING):
        logger.warning("`CLIPImageProcessor` requires torchvision (not installed); falling back to `X` for ...")
        logger.warning("something else went wrong")
    assert [r.getMessage() for r in caplog.records] == ["something else went wrong"]
