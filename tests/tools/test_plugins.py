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


def test_a_built_in_kind_is_named_only_by_its_plug_in_and_the_wire():
    """No string switch on a built-in's kind elsewhere in the engine (HTTP handlers of tool resources,
    the migration tool, samples and smoke checks speak the Assistants wire, so they may)."""
    allowed = ("core/wire/", "tools/plugins/", "api/", "migrate/", "samples/", "smoke/", "bench/", "tests/",
               "core/file_search/in_runs.py")
    found = []
    for path in ROOT.rglob("*.py"):
        relative = str(path.relative_to(ROOT))
        if relative.startswith(allowed) or "node_modules" in relative or relative.startswith("."):
            continue
        text = path.read_text()
        found += [relative for kind in TOOLS.builtin_kinds if f'"{kind}"' in text]
    assert found == []


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
