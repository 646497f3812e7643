"""The Region tab's events: its run, wired as every run in the generation slot is (`app.layout.wiring.wire_run`)."""

from __future__ import annotations

from app.handlers.region import REGION_FIELDS, RegionHandlers, RegionShown
from app.handlers.registry import Handlers
from app.layout.components import Components
from app.layout.events import named_event
from app.layout.wiring import wire_run


def wire_region(page: Components, handlers: Handlers) -> None:
    """Make region (one generation-queue slot, like Generate), Cancel, and the status line."""
    region = RegionHandlers(handlers.context, handlers.projection)
    wire_run(
        page, handlers, "region_button", named_event(page, region.region, REGION_FIELDS, RegionShown),
        api_name="region", progress_on=("region_image",), refusals_in="region_summary", cancel="region_cancel",
    )  # fmt: skip
