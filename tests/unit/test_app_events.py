"""Events wired by name: components found by their page-wide name, handlers called with named inputs
and their named results put in Gradio's output order."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import gradio as gr
import pytest

from app.layout.components import Components
from app.layout.events import named_event, positional


@dataclass(frozen=True)
class _PointArea:
    lat: object
    lon: object


@dataclass(frozen=True)
class _StatusArea:
    status: object


@dataclass(frozen=True)
class _AnotherLat:
    lat: object


def _components(**areas) -> Components:
    """A Components whose areas are `areas` and the rest empty (no Blocks needed)."""

    @dataclass(frozen=True)
    class Empty:
        pass

    names = [f for f in Components.__dataclass_fields__ if f != "by_name"]
    return Components(**{name: areas.get(name, Empty()) for name in names})


@dataclass(frozen=True)
class _Shown:
    status: str
    lon: str


def test_components_are_found_by_one_page_wide_name_and_a_second_use_of_a_name_is_refused():
    components = _components(map=_PointArea("LAT", "LON"), observed=_StatusArea("STATUS"))
    assert components["lat"] == "LAT" and components.pick(["status", "lon"]) == ["STATUS", "LON"]
    with pytest.raises(KeyError, match="No component is named 'latitude'"):
        components["latitude"]
    with pytest.raises(ValueError, match="Two components are named 'lat'"):
        _components(map=_PointArea("LAT", "LON"), observed=_AnotherLat("again"))


def test_a_named_event_exposes_the_input_names_and_returns_named_values_in_output_order():
    components = _components(map=_PointArea("LAT", "LON"), observed=_StatusArea("STATUS"))
    seen = {}

    def handler(lat, lon, request: gr.Request, progress=None):
        seen.update(lat=lat, lon=lon, request=request)
        return _Shown(status="ok", lon=f"{lon}!")

    event = named_event(components, handler, ("lat", "lon"), ("lon", "status"))
    parameters = inspect.signature(event["fn"]).parameters
    # what gradio_client shows: the component names, then what Gradio itself fills in
    assert list(parameters) == ["lat", "lon", "request", "progress"]
    assert isinstance(parameters["progress"].default, gr.Progress)
    assert event["inputs"] == ["LAT", "LON"] and event["outputs"] == ["LON", "STATUS"]
    assert event["fn"]("1", "2", "REQ", None) == ("2!", "ok")
    assert seen == {"lat": "1", "lon": "2", "request": "REQ"}
    assert event["fn"].__name__ == "handler"  # Gradio names private events after it


def test_a_handler_that_yields_shows_each_answer_and_an_error_after_the_first_stays_one_message():
    from app.errors import shown_errors
    from core.errors import BadRequestError

    components = _components(map=_PointArea("LAT", "LON"), observed=_StatusArea("STATUS"))

    @shown_errors
    def handler(lat):
        yield {"status": "preview"}
        if lat == "bad":
            raise BadRequestError("No full image.", "Try again.")
        yield _Shown(status="full", lon=lat)

    event = named_event(components, handler, ("lat",), ("status", "lon"))
    assert inspect.isgeneratorfunction(event["fn"])  # Gradio streams a generator's answers
    assert list(event["fn"]("1")) == [("preview", gr.skip()), ("full", "1")]
    answers = event["fn"]("bad")
    assert next(answers) == ("preview", gr.skip())
    with pytest.raises(gr.Error, match="No full image. Try again."):
        next(answers)


def test_outputs_a_handler_leaves_out_keep_their_value_and_unknown_ones_are_refused():
    names = ("status", "lon")
    assert positional({"lon": "x"}, names) == (gr.skip(), "x")
    assert positional({"status": "only"}, ("status",)) == "only"  # one output is not a tuple
    assert positional(gr.skip(), names) == gr.skip()  # a cancelled run changes nothing
    assert positional({}, ()) is None
    with pytest.raises(TypeError, match=r"returned \['lat'\]"):
        positional({"lat": 1}, names)
    with pytest.raises(TypeError, match="dataclass or a dict"):
        positional(("a", "b"), names)


def test_a_handler_that_does_not_take_an_input_is_refused_when_the_page_is_built():
    components = _components(map=_PointArea("LAT", "LON"))

    def handler(lat):
        return {}

    with pytest.raises(TypeError, match=r"does not take the inputs \['lon'\]"):
        named_event(components, handler, ("lat", "lon"))

    def takes_any(**values):
        return {"lat": values["path"]}

    # a public parameter named unlike its component: {parameter: component}
    event = named_event(components, takes_any, {"path": "lon"}, ["lat"])
    assert list(inspect.signature(event["fn"]).parameters) == ["path"] and event["inputs"] == ["LON"]
    assert event["fn"]("file.json") == "file.json"


def test_the_page_wires_each_public_endpoint_to_the_components_named_by_its_parameters(tmp_path):
    from app.forms import GenerateForm, GridForm, ModelsForm, TimelapseForm
    from app.handlers.generate import GenerateShown
    from app.layout.events import output_names
    from app.ui import build_ui

    demo = build_ui("tiny-random", output_dir=tmp_path)
    components = demo.ecomapper_components
    ids = {id(component): name for name, component in components.by_name.items()}
    wired = {
        fn.api_name: ([ids[id(c)] for c in fn.inputs], [ids[id(c)] for c in fn.outputs])
        for fn in demo.fns.values()
        if fn.api_visibility == "public"
    }
    assert set(wired) == {"observe", "generate", "load_recipe", "timelapse", "scenario_grid", "projection",
                          "compare_models", "change", "generator", "region"}  # fmt: skip
    from app.handlers.region import REGION_FIELDS, RegionShown

    assert wired["region"] == (list(REGION_FIELDS), list(output_names(RegionShown)))
    assert wired["generate"] == (list(GenerateForm.FIELDS), list(output_names(GenerateShown)))
    assert wired["timelapse"][0] == list(TimelapseForm.FIELDS) and wired["scenario_grid"][0] == list(GridForm.FIELDS)
    assert wired["compare_models"][0] == list(ModelsForm.FIELDS)
    # the Change tab (issue 20) reads the Generate form plus the number of samples
    assert wired["change"][0] == [*GenerateForm.FIELDS, "samples"]
    # the Generators tab (issue 22) reads the Models form plus the generator, its box layout and COP-GEN's real scene
    assert wired["generator"][0] == [*ModelsForm.FIELDS, "generator_id", "layout_json", "source_month",
                                     "source_strength"]  # fmt: skip
    # a loaded recipe fills exactly the controls /generate reads, then the preset
    assert wired["load_recipe"] == (["recipe_upload"], [*GenerateForm.FIELDS, "preset"])
    assert wired["observe"][0] == ["lat", "lon", "month"]
    assert components["lat"].elem_id == "lat" and components["temp_delta_c"].elem_id == "temp-delta"


def test_building_the_app_builds_gradios_server_app_only_where_gradio_must(tmp_path, monkeypatch):
    """Gradio builds its server app in `gr.Blocks()`, at the `with` exit and in launch(), for any Blocks
    app; our page adds none (a second queue() would build it once more, for the queue's size alone)."""
    import gradio.routes

    from app.ui import MAX_QUEUE_SIZE, build_ui

    built = []
    create_app = gradio.routes.App.create_app

    def counted(*args, **kwargs):  # Gradio's function, counted, not replaced
        built.append(args[0])
        return create_app(*args, **kwargs)

    monkeypatch.setattr(gradio.routes.App, "create_app", staticmethod(counted))
    with gr.Blocks() as bare:
        gr.Markdown("bare")
    assert built == [bare, bare]  # Gradio 6.31: `gr.Blocks()` (empty) and the `with` exit
    built.clear()
    demo = build_ui("tiny-random", output_dir=tmp_path)
    assert built == [demo, demo]  # the same two for the whole page: nothing of ours rebuilds it
    assert demo._queue.max_size == MAX_QUEUE_SIZE


def test_a_refused_event_keeps_its_message_for_its_session_until_the_area_takes_it_once():
    from types import SimpleNamespace

    from gradio.context import LocalContext

    from app.errors import shown_errors, take_refusal
    from core.errors import BadRequestError

    components = _components(observed=_StatusArea("STATUS"))

    @shown_errors
    def refuse():
        raise BadRequestError("The month '2020-13' is not a month.", "Write YYYY-MM.")

    @shown_errors
    def refuse_quietly():
        raise gr.Error("unchanged", visible=False)

    event = named_event(components, refuse, (), ["status"])
    quiet = named_event(components, refuse_quietly, (), ["status"])
    token = LocalContext.request.set(SimpleNamespace(session_hash="s1"))  # what Gradio sets while an event runs
    try:
        with pytest.raises(gr.Error):
            event["fn"]()
        with pytest.raises(gr.Error):
            quiet["fn"]()
    finally:
        LocalContext.request.reset(token)
    key = event["fn"].refusal_key
    assert take_refusal("another session", key) is None
    assert take_refusal("s1", key) == "The month '2020-13' is not a month. Write YYYY-MM."
    assert take_refusal("s1", key) is None  # shown once: the next refusal is a new one
    assert take_refusal("s1", quiet["fn"].refusal_key) is None  # an invisible stop is not a refusal


def test_a_refusal_line_is_escaped_text_in_a_styled_span():
    from app.errors import refusal_line

    line = refusal_line("No place called '<b>x*y_z' here.\nUpload a *.recipe.json")
    # the tooltip holds the whole message (the line shows two lines at most)
    assert line == (
        '<span class="refusal" title="No place called &#x27;&lt;b&gt;x*y_z&#x27; here. Upload a *.recipe.json">'
        "⚠️ No place called '\\<b\\>x\\*y\\_z' here. Upload a \\*.recipe.json</span>"
    )


def test_each_area_shows_its_refusals_in_its_line_and_clears_them_when_its_next_action_starts(tmp_path):
    from app.ui import build_ui

    demo = build_ui("tiny-random", output_dir=tmp_path)
    components = demo.ecomapper_components
    names = {id(component): name for name, component in components.by_name.items()}
    by_id = {fn._id: fn for fn in demo.fns.values()}

    def lines(fns):
        return {names[id(fn.outputs[0])] for fn in fns}

    refused = [fn for fn in demo.fns.values() if fn.trigger_only_on_failure and fn.name == "refused"]
    cleared = [fn for fn in demo.fns.values() if fn.fn is None and fn.js and 'class="refusal"' in fn.js]
    emptied = [fn for fn in demo.fns.values() if fn.fn is None and fn.js == "() => ''"]
    expected = {
        "place_line", "observed_line", "status", "recipe_status", "timelapse_summary", "grid_status",
        "projection_summary", "models_missing", "change_sentence", "generator_status", "region_summary",
    }  # fmt: skip
    assert lines(refused) == expected
    assert lines(cleared) | lines(emptied) == expected and lines(emptied) == {"status"}
    # the clearing comes first among a trigger's listeners: the page runs them in that order (`clear_when_started`)
    for button, action in (("grid_button", "scenario_grid"), ("observe_button", "observe")):
        listeners = [fn for fn in demo.fns.values() if (components[button]._id, "click") in fn.targets]
        clearing = [i for i, fn in enumerate(listeners) if fn in cleared or fn in emptied]
        assert clearing and max(clearing) < [fn.api_name for fn in listeners].index(action)
    # the public actions each say why in their own area
    area_of = {by_id[fn.trigger_after].api_name: names[id(fn.outputs[0])] for fn in refused
               if by_id[fn.trigger_after].api_name}  # fmt: skip
    assert area_of["generate"] == "status" and area_of["timelapse"] == "timelapse_summary"
    assert area_of["scenario_grid"] == "grid_status" and area_of["load_recipe"] == "recipe_status"
    assert area_of["observe"] == "observed_line" and area_of["region"] == "region_summary"


def test_a_refusal_toast_closes_by_itself_only_where_the_areas_line_keeps_the_message():
    from types import SimpleNamespace

    from gradio.context import LocalContext

    from app.errors import TOAST_S, shown_errors
    from app.layout.events import show_refusals
    from core.errors import BadRequestError

    @shown_errors
    def refuse():
        raise BadRequestError("The month '2020-13' is not a month.", "Write YYYY-MM.")

    with gr.Blocks():
        page = _components(observed=_StatusArea(gr.Markdown()))
        with_line = gr.Button().click(**named_event(page, refuse, (), ["status"]))
        without_line = gr.Button().click(**named_event(page, refuse, (), ["status"]))
        show_refusals(page, "status", [with_line])
    durations = []
    token = LocalContext.request.set(SimpleNamespace(session_hash="s1"))
    try:
        for event in (with_line, without_line):
            with pytest.raises(gr.Error) as refused:
                event.fn()
            durations.append(refused.value.duration)
    finally:
        LocalContext.request.reset(token)
    # the line keeps the message, so its toast may close (and not stay over Cancel); without a line it stays
    assert durations == [TOAST_S, None]
