"""The Region tab's events, beside the page's other wiring (`app.layout.wiring`), which stays untouched."""

from __future__ import annotations

from app.handlers.region import REGION_FIELDS, RegionHandlers, RegionShown
from app.handlers.registry import Handlers
from app.layout.components import Components
from app.layout.events import named_event, show_refusals
from app.layout.wiring import GENERATION_QUEUE, run_started


def wire_region(page: Components, handlers: Handlers) -> None:
    """Make region (one generation-queue slot, like Generate), Cancel, and the status line."""
    region = RegionHandlers(handlers.context, handlers.projection)
    made = page["region_button"].click(
        **named_event(page, region.region, REGION_FIELDS, RegionShown),
        api_name="region",
        show_progress_on=[page["region_image"]],
        concurrency_limit=1,
        concurrency_id=GENERATION_QUEUE,
        trigger_mode="multiple",
    )
    show_refusals(page, "region_summary", [made])
    run_started(page, handlers, "region_button")
    page["region_cancel"].click(**named_event(page, handlers.runs.cancel, (), ["status"]), api_visibility="private",
                                concurrency_limit=None)  # fmt: skip
