"""All handlers of the app, built once around one shared context (configuration, model, cancel flags)."""

from __future__ import annotations

from dataclasses import dataclass

from app.handlers.change import ChangeHandlers
from app.handlers.context import AppContext
from app.handlers.generate import GenerateHandlers
from app.handlers.generators import GeneratorHandlers
from app.handlers.models import ModelsHandlers
from app.handlers.observe import ObserveHandlers
from app.handlers.point import PointHandlers
from app.handlers.projection import ProjectionHandlers
from app.handlers.runs import RunHandlers
from app.handlers.series import SeriesHandlers
from app.state import AppConfig, EngineHolder


@dataclass(frozen=True)
class Handlers:
    """One small handler object per area; the handlers that need nothing shared are module functions."""

    context: AppContext
    point: PointHandlers
    observe: ObserveHandlers
    generate: GenerateHandlers
    series: SeriesHandlers
    models: ModelsHandlers
    projection: ProjectionHandlers
    runs: RunHandlers
    change: ChangeHandlers
    generators: GeneratorHandlers

    @property
    def config(self) -> AppConfig:
        return self.context.config


def build_handlers(config: AppConfig, engines: EngineHolder | None = None) -> Handlers:
    """The handlers bound to `config`; `engines` lets tests and benchmarks share a loaded model."""
    context = AppContext(config, engines)
    projection = ProjectionHandlers(context)
    generate = GenerateHandlers(context, projection)
    return Handlers(
        context=context,
        point=PointHandlers(context),
        observe=ObserveHandlers(context),
        generate=generate,
        series=SeriesHandlers(context, projection),
        models=ModelsHandlers(context, projection),
        projection=projection,
        runs=RunHandlers(context),
        change=ChangeHandlers(context, generate),
        generators=GeneratorHandlers(context, projection),
    )
