"""The page's layout and wiring: `page.build_blocks` lays out the areas, collects their components in
one `components.Components` and wires them by name (`wiring`, through `events.named_event`)."""
