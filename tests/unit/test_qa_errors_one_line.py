"""Errors stay one line even when they quote a multi-line cause from another library."""

from __future__ import annotations

from core.errors import UpstreamError


def test_a_multi_line_cause_becomes_one_line():
    err = UpstreamError("The service said:\n  bad things\n\nhappened.", "Retry\nlater.", service="x", status=500)
    assert str(err) == "The service said: bad things happened. Retry later."
    assert err.problem == "The service said: bad things happened." and err.fix == "Retry later."
    assert err.status == 500
