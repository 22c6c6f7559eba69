"""Index a function app the way the Python worker does, and refuse what it refuses.

The worker imports `function_app`, expects exactly one `FunctionRegister`
instance at module level, calls `get_functions()` and reads each function's
trigger and bindings. Anything we cannot serve faithfully is an error here
rather than a silent difference from Azure.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import azure.functions as func

from devhost.http_streams import takes_streaming_request
from devhost.routing import RouteTemplate

SUPPORTED_TRIGGERS = {"httpTrigger", "orchestrationTrigger", "activityTrigger", "timerTrigger"}
SUPPORTED_BINDINGS = {"durableClient", "http"}


class AppIndexError(Exception):
    """The app would not index on the Functions host."""


@dataclass
class IndexedFunction:
    name: str
    trigger_type: str
    trigger_param: str
    user_function: Callable[..., Any]
    bindings: list[dict[str, Any]]
    route: RouteTemplate | None = None
    methods: frozenset[str] | None = None
    streaming: bool = False  # takes a FastAPI Request (HTTP streams)
    schedule: str | None = None  # a timer trigger's NCRONTAB expression, %SETTING% references resolved
    run_on_startup: bool = False

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.user_function)

    @property
    def durable_client_param(self) -> str | None:
        for binding in self.bindings:
            if binding["type"] == "durableClient":
                return binding["name"]
        return None

    @property
    def wants_context(self) -> bool:
        return "context" in inspect.signature(self.user_function).parameters


# The host's own default for durableTask.maxConcurrentActivityFunctions is 10 per core; devhost's
# activities mostly wait on I/O, so it allows more.
DEFAULT_MAX_CONCURRENT_ACTIVITIES = 64
# App settings named so override host.json, as on the host (`AzureFunctionsJobHost__path__to__key`).
_HOST_OVERRIDE = "AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions"


@dataclass
class HostConfig:
    route_prefix: str
    hub_name: str
    max_concurrent_activities: int = DEFAULT_MAX_CONCURRENT_ACTIVITIES

    @classmethod
    def load(cls, app_dir: Path) -> "HostConfig":
        host = json.loads((app_dir / "host.json").read_text(encoding="utf-8"))
        if host.get("version") != "2.0":
            raise AppIndexError('host.json must have "version": "2.0"')
        extensions = host.get("extensions", {})
        prefix = extensions.get("http", {}).get("routePrefix", "api")
        durable = extensions.get("durableTask", {})
        hub = durable.get("hubName", "TestHubName")
        activities = os.environ.get(_HOST_OVERRIDE) or durable.get("maxConcurrentActivityFunctions")
        return cls(route_prefix=prefix.strip("/"), hub_name=_resolve_app_setting(hub),
                   max_concurrent_activities=_positive(activities, DEFAULT_MAX_CONCURRENT_ACTIVITIES))


def _positive(value, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        if int(value) > 0:
            return int(value)
    raise AppIndexError(f"maxConcurrentActivityFunctions must be a positive whole number, not {value!r}")


def _resolve_app_setting(value: str) -> str:
    """Expand %NAME% references from the environment, as the host does for binding expressions."""
    def expand(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise AppIndexError(f"host.json refers to app setting %{name}% which is not set")
        return os.environ[name]
    return re.sub(r"%([^%]+)%", expand, value)


@dataclass
class FunctionIndex:
    functions: dict[str, IndexedFunction] = field(default_factory=dict)
    _http: list[IndexedFunction] | None = field(default=None, repr=False, compare=False)
    # (lower-cased name, trigger type) -> function, built once: every orchestrator episode and activity looks one up
    _named: dict[tuple[str, str], IndexedFunction] | None = field(default=None, repr=False, compare=False)

    def add(self, name: str, function: IndexedFunction) -> None:
        self.functions[name] = function
        self._http = self._named = None

    @property
    def http_functions(self) -> list[IndexedFunction]:
        """The HTTP functions, most specific route first: sorted once, as every request is routed by them."""
        if self._http is None:
            routes = [f for f in self.functions.values() if f.trigger_type == "httpTrigger"]
            self._http = sorted(routes, key=lambda f: f.route.specificity)
        return self._http

    @property
    def timer_functions(self) -> list[IndexedFunction]:
        return [f for f in self.functions.values() if f.trigger_type == "timerTrigger"]

    def orchestrator(self, name: str) -> IndexedFunction | None:
        return self._by_type(name, "orchestrationTrigger")

    def activity(self, name: str) -> IndexedFunction | None:
        return self._by_type(name, "activityTrigger")

    def _by_type(self, name: str, trigger_type: str) -> IndexedFunction | None:
        if self._named is None:  # function names are case-insensitive on the host; the first of a name wins
            self._named = {}
            for function in self.functions.values():
                self._named.setdefault((function.name.lower(), function.trigger_type), function)
        return self._named.get((name.lower(), trigger_type))

    def match_http(self, method: str, path: str) -> tuple[IndexedFunction, dict[str, str]] | None:
        """The most specific HTTP function whose route and methods accept the request."""
        for function in self.http_functions:
            params = function.route.match(path)
            if params is not None and (function.methods is None or method.upper() in function.methods):
                return function, params
        return None

    def path_exists(self, path: str) -> bool:
        return any(f.route.match(path) is not None for f in self.http_functions)


def load_function_app(app_dir: Path, module_name: str = "function_app") -> FunctionIndex:
    """Import the app module from `app_dir` and index its functions."""
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # the worker reports import failures as indexing failures
        raise AppIndexError(f"importing {module_name} failed: {error!r}") from error
    registers = [value for value in vars(module).values() if isinstance(value, func.FunctionRegister)]
    if len(registers) != 1:
        raise AppIndexError(
            f"{module_name} must define exactly one FunctionApp/DFApp instance; found {len(registers)}")
    try:
        functions = registers[0].get_functions()
    except ValueError as error:
        raise AppIndexError(str(error)) from error
    return index_functions(functions)


def index_functions(functions: list[func.Function]) -> FunctionIndex:
    index = FunctionIndex()
    seen_routes: dict[tuple[str, str], str] = {}
    for function in functions:
        name = function.get_function_name()
        trigger = function.get_trigger()
        if trigger is None:
            raise AppIndexError(f"function {name} has no trigger")
        bindings = [_plain(binding.get_dict_repr()) for binding in function.get_bindings()]
        trigger_binding = next(b for b in bindings if b["type"] == trigger.get_binding_name()
                               or b["direction"] == "IN" and b["type"].endswith("Trigger"))
        trigger_type = trigger_binding["type"]
        if trigger_type not in SUPPORTED_TRIGGERS:
            raise AppIndexError(f"function {name}: trigger {trigger_type} is not supported by devhost")
        for binding in bindings:
            if binding is not trigger_binding and binding["type"] not in SUPPORTED_BINDINGS:
                raise AppIndexError(f"function {name}: binding {binding['type']} is not supported by devhost")
        if name.lower() in (n.lower() for n in index.functions):
            raise AppIndexError(f"function name {name} is used twice")
        indexed = IndexedFunction(
            name=name, trigger_type=trigger_type, trigger_param=trigger_binding["name"],
            user_function=function.get_user_function(), bindings=bindings)
        _check_parameters(indexed)
        if trigger_type == "httpTrigger":
            indexed.streaming = takes_streaming_request(indexed.user_function, indexed.trigger_param)
            if indexed.streaming and not indexed.is_async:
                raise AppIndexError(f"function {name}: an HTTP streams function must be async")
            indexed.route = RouteTemplate.parse(trigger_binding.get("route") or name)
            methods = trigger_binding.get("methods")
            indexed.methods = frozenset(m.upper() for m in methods) if methods else None
            for method in sorted(indexed.methods or {"*"}):
                key = (indexed.route.template.lower(), method)
                if key in seen_routes:
                    raise AppIndexError(
                        f"functions {seen_routes[key]} and {name} both serve {method} {indexed.route.template}")
                seen_routes[key] = name
        if trigger_type == "timerTrigger":
            indexed.schedule = timer_schedule(name, trigger_binding.get("schedule") or "")
            indexed.run_on_startup = bool(trigger_binding.get("runOnStartup"))
        index.add(name, indexed)
    _check_http_streams(index)
    return index


def timer_schedule(name: str, schedule: str) -> str:
    """A timer trigger's schedule as the host reads it: `%SETTING%` is the app setting's value, and it
    must be a six-field NCRONTAB expression (seconds first); TimeSpan schedules are not served."""
    from croniter import croniter

    schedule = _resolve_app_setting(schedule).strip()
    if len(schedule.split()) != 6 or not croniter.is_valid(schedule, second_at_beginning=True):
        raise AppIndexError(f"function {name}: {schedule!r} is not a six-field NCRONTAB schedule")
    return schedule


def _check_http_streams(index: FunctionIndex) -> None:
    """With HTTP streams on, the host proxies every HTTP function: plain HttpRequest ones stop working."""
    http = index.http_functions
    streaming = [f.name for f in http if f.streaming]
    plain = [f.name for f in http if not f.streaming]
    if streaming and plain:
        raise AppIndexError(
            f"HTTP streams are enabled by {streaming[0]}, so HttpRequest functions such as {plain[0]} "
            "would not work on the host: every HTTP function must take a FastAPI Request")


def _check_parameters(function: IndexedFunction) -> None:
    """The worker refuses a function whose parameters do not match its bindings."""
    parameters = inspect.signature(function.user_function).parameters
    bound = {b["name"] for b in function.bindings if b["direction"] == "IN"}
    for name in bound:
        if name not in parameters:
            raise AppIndexError(f"function {function.name}: binding {name} has no matching parameter")
    for name, parameter in parameters.items():
        if name not in bound and name != "context" and parameter.default is inspect.Parameter.empty:
            raise AppIndexError(f"function {function.name}: parameter {name} has no binding")


def _plain(value: Any) -> Any:
    """Binding dicts hold enums; flatten to the JSON the host would see."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "value") and not isinstance(value, (str, int)):
        return value.name if value.__class__.__name__ == "BindingDirection" else value.value
    return value
