"""Event handlers: thin adapters from named widget values (read once into a form) to `core.services`
and from core's results back to named values (a dataclass or dict keyed by component name).

`registry.build_handlers` binds them to one configuration, one model holder and one cancel registry.
"""
