"""Tools as plug-ins (core/tool_plugins.py, tools/plugins/): the registry, the rules around it, and
each plug-in's pure parts."""

from __future__ import annotations

import ast
import json
import typing
from pathlib import Path

import pytest

from core import chat_turns
from core.run_bookkeeping import Produced, Source, StepBookkeeping
from core.tool_plugins import Finished, ToolPlugin
from core.wire.common import Tool
from tools.plugins import TOOLS, code_interpreter, file_search

ROOT = Path(__file__).resolve().parents[2]
RUN = {"id": "run_1", "thread_id": "thread_1", "assistant_id": "asst_1",
       "tools": [{"type": "code_interpreter"}, {"type": "file_search", "file_search": {"max_num_results": 3}}]}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_core_never_imports_the_plug_ins_or_the_engine():
    """The layering rule of core/tool_plugins.py: core receives the registry, it never imports it."""
    offending = {str(path.relative_to(ROOT)): sorted(name for name in _imports(path)
                                                     if name.split(".")[0] in ("tools", "activities"))
                 for path in (ROOT / "core").rglob("*.py")}
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_registry_has_one_plug_in_per_kind_and_the_wire_accepts_exactly_those():
    assert all(isinstance(tool, ToolPlugin) for tool in TOOLS.all)
    assert TOOLS.functions.kind == "function"
    wire_types = {typing.get_args(model.model_fields["type"].annotation)[0]
                  for model in typing.get_args(typing.get_args(Tool)[0])}
    assert wire_types == {tool.kind for tool in TOOLS.all}


# Who may decide on a built-in's kind (a comparison with it, `isinstance` on its wire class): its plug-in, the
# wire itself, the wire's clients (which read what the API returns) and what is no part of the app.
MAY_SWITCH = {
    "tools/plugins/": "the plug-ins: each decides about its own kind",
    "core/wire/": "the wire: its request schemas are one class per tool type, and say which tool a field is for",
    "migrate/": "a client of the wire: copies assistants, their tools and tool_resources between services",
    "samples/": "a client of the wire: declares its assistants' tools and reads the calls of their steps",
    "smoke/": "a client of the wire: a deployed service's check declares the tools it calls and reads their calls",
    "tests/": "not the app",
    "bench/": "not the app",
}
# Who may name a built-in's kind without deciding on it: handlers of the wire's fields named after a tool.
MAY_NAME = {
    **MAY_SWITCH,
    "api/file_search_resources.py": "tool_resources.file_search is the Assistants wire's field (created, read, "
                                    "filled in), not a switch",
}


def _kind_constants() -> set[str]:
    """Names the plug-ins and the wire give a built-in's kind (`TOOL_NAME = "file_search"`): the same switch."""
    names = set()
    for folder in ("tools/plugins", "core/wire"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                        and node.value.value in TOOLS.builtin_kinds:
                    names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def _wire_tool_classes() -> set[str]:
    """The wire's classes of a built-in's declaration (Assistants, Responses, attachments): `…Tool` models with
    a `type` (the functions' ones are out: a function is no built-in)."""
    import importlib
    import pkgutil

    import pydantic

    import core.wire

    found = set()
    for module_info in pkgutil.iter_modules(core.wire.__path__):
        module = importlib.import_module(f"core.wire.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, pydantic.BaseModel) and name.endswith("Tool") \
                    and "type" in value.model_fields \
                    and typing.get_args(value.model_fields["type"].annotation) != ("function",):
                found.add(name)
    return found


def _named(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _kind_uses(tree: ast.AST, constants: set[str], classes: set[str]) -> tuple[list[str], list[str]]:
    """(switches, namings) of a built-in's kind in a module: comparisons with a kind (a literal, in either
    quotes, or a constant holding it) and isinstance on a wire tool class; and any literal kind or kind constant."""
    kinds = TOOLS.builtin_kinds

    def is_kind(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in kinds
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(is_kind(element) for element in node.elts)
        return _named(node) in constants

    switches, namings = [], []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Compare) and any(is_kind(part) for part in (node.left, *node.comparators)):
            switches.append(f"{where}: compares with a kind")
        elif isinstance(node, ast.Call) and _named(node.func) == "isinstance" and len(node.args) == 2:
            checked = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            if any(_named(each) in classes for each in checked):
                switches.append(f"{where}: isinstance on a wire tool class")
        elif isinstance(node, ast.MatchValue) and is_kind(node.value):
            switches.append(f"{where}: matches a kind")
        elif isinstance(node, ast.Constant) and node.value in kinds:
            namings.append(f"{where}: {node.value!r}")
        elif isinstance(node, ast.ImportFrom) and any(alias.name in constants for alias in node.names):
            namings.append(f"{where}: imports a kind constant")
        elif isinstance(node, ast.Attribute) and node.attr in constants:
            namings.append(f"{where}: {node.attr}")
    return switches, namings


def test_a_built_in_kind_is_named_only_by_its_plug_in_and_the_wire():
    """No switch on a built-in's kind outside its plug-in and the wire, and no mention of it at all but where the
    Assistants wire is spoken (MAY_SWITCH, MAY_NAME: each with its reason)."""
    constants, classes = _kind_constants(), _wire_tool_classes()
    assert {"TOOL_NAME", "CODE_INTERPRETER"} <= constants and {"CodeInterpreterTool", "FileSearchTool"} <= classes
    found = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((*MAY_SWITCH, ".")) or "node_modules" in relative:
            continue
        switches, namings = _kind_uses(ast.parse(path.read_text()), constants, classes)
        wrong = switches + ([] if relative.startswith(tuple(MAY_NAME)) else namings)
        if wrong:
            found[relative] = wrong
    assert found == {}


def test_the_kind_check_sees_switches_in_either_quotes_and_on_wire_classes():
    """The check above would pass if it saw nothing: each kind of switch it looks for is found."""
    source = ("if tool['type'] == 'file_search': pass\n"
              "if kind in (\"code_interpreter\", 'x'): pass\n"
              "if isinstance(tool, CodeInterpreterTool): pass\n"
              "if name != response_tools.CODE_INTERPRETER: pass\n")
    switches, _ = _kind_uses(ast.parse(source), _kind_constants(), _wire_tool_classes())
    assert switches == ["line 1: compares with a kind", "line 2: compares with a kind",
                        "line 3: isinstance on a wire tool class", "line 4: compares with a kind"]


def test_a_run_without_a_built_in_is_not_offered_it_and_its_name_is_not_claimed():
    run = dict(RUN, tools=[])
    assert TOOLS.enabled(run) == [TOOLS.functions]
    offer = chat_turns.offer_of(run, frozenset())
    names = {entry["function"]["name"] for tool in TOOLS.builtins for entry in tool.offered(RUN, [])}
    assert names == {"code_interpreter", "file_search", "web_search"}
    assert [chat_turns.route_call(name, offer, TOOLS).where for name in sorted(names)] == ["undeclared"] * 3


def test_the_offer_lists_functions_then_built_ins_in_registry_order():
    run = dict(RUN, tools=[{"type": "function", "function": {"name": "f"}}, *RUN["tools"]])
    files = [{"file_id": "file-1", "name": "data.csv"}]
    by_kind = chat_turns.offered_by_kind(TOOLS.enabled(run), run, {"code_interpreter": files, "function": {}})
    assert list(by_kind) == ["function", "code_interpreter", "file_search"]
    offered = [definition for definitions in by_kind.values() for definition in definitions]
    assert [tool["function"]["name"] for tool in offered] == ["f", "code_interpreter", "file_search"]
    assert "/mnt/data/data.csv" in offered[1]["function"]["description"]
    assert code_interpreter.TOOL.run_books(files) == {"code_files": files}


def test_a_file_search_call_keeps_its_query_and_reads_back_as_the_model_made_it():
    routed = chat_turns.route_call("file_search", chat_turns.offer_of(RUN, frozenset()), TOOLS)
    made = routed.tool.step_call("call_1", "file_search", json.dumps({"queries": ["a", "b"]}), routed.where, RUN)
    assert made.call["file_search"] == {"ranking_options": file_search.DEFAULT_RANKING, "results": []}
    assert made.books == {"queries": {"call_1": "a b"}}
    books = StepBookkeeping(**made.books)
    assert file_search.TOOL.chat_call(made.call, books) == ("file_search", json.dumps({"query": "a b"}))
    assert file_search.TOOL.model_output(made.call, books) is None


def test_recording_a_result_fills_the_call_keeps_what_the_model_reads_and_completes_the_step():
    calls = [code_interpreter.step_call("c1", json.dumps({"code": "1+1"})),
             {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{}", "output": "done"}}]
    step = {"id": "step_1", "status": "in_progress", "completed_at": None,
            "step_details": {"type": "tool_calls", "tool_calls": calls}}
    produced = Produced(kind="image", name="plot.png", file_id="file-9")
    result = Finished(fill=lambda call: call["code_interpreter"].update(outputs=[{"type": "logs", "logs": "2"}]),
                      model_text="2", kept={"produced": [produced]})
    recorded, books = TOOLS.recorded(step, StepBookkeeping(), "c1", result, at=7)
    assert recorded["status"] == "completed" and recorded["completed_at"] == 7
    assert recorded["step_details"]["tool_calls"][0]["code_interpreter"]["outputs"] == [{"type": "logs", "logs": "2"}]
    assert books.outputs == {"c1": "2"} and books.produced == [produced]
    assert step["step_details"]["tool_calls"][0]["code_interpreter"]["outputs"] == []  # a copy was changed
    again = Finished(fill=lambda call: pytest.fail("a recorded call is not recorded twice"), model_text="3")
    assert TOOLS.recorded(recorded, books, "c1", again, at=8) == (recorded, books)


def test_the_answer_shows_figures_first_and_every_tool_annotation_in_text_order():
    books = StepBookkeeping(produced=[Produced(kind="image", name="p.png", file_id="file-img"),
                                      Produced(kind="file", name="out.csv", file_id="file-csv")],
                            sources=[Source(file_id="file-doc", name="doc.pdf")])
    text = "See 【0†doc.pdf】 and sandbox:/mnt/data/out.csv"
    content = chat_turns.answer_content(text, TOOLS.enabled(RUN), [({}, books)])
    assert content[0] == {"type": "image_file", "image_file": {"file_id": "file-img", "detail": "auto"}}
    assert [note["type"] for note in content[1]["text"]["annotations"]] == ["file_citation", "file_path"]
