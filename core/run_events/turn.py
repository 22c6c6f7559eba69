"""A model turn's live output as run events: the model is streamed, each piece becomes a delta.

`stream_completion` reads a streamed Chat Completion, handing every text piece
and tool-call piece on as it arrives, and returns the whole completion (the SDK's
own accumulator builds it). `TurnOutput` turns those pieces into OpenAI's events
in the run's log (through `TurnStream`, which claims the turn, batches writes and
keeps a retried attempt from showing text twice), and says what it showed (`shown`):
the change storing the turn's result derives the rest from its records
(core.run_events.changes). The engine decides what a turn means; this module only
shows it, and a tool call's deltas are its plug-in's (core.tool_plugins: the route
of a call's name names the plug-in).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence, cast

import openai
from openai.types.chat import ChatCompletionChunk

from core import ids
from core.run_events import payloads
from core.run_events.changes import TurnShown, turn_events
from core.run_events.log import EventLog, Head
from core.run_events.payloads import Event
from core.run_events.turn_stream import Superseded, TurnStream
from core.run_machine import IN_PROGRESS, close_step
from core.tool_plugins import Route, Tools
from core.wire.messages import message_record
from core.wire.runs import message_creation, new_step

if TYPE_CHECKING:  # the streaming helpers are imported by the first model turn: ~10 ms off every start
    from openai.lib.streaming.chat import ParsedChatCompletionSnapshot


def stream_completion(client: openai.OpenAI, request: dict[str, Any], on_text: Callable[[str], None],
                      on_tool: Callable[[int, str | None, str | None, str], None]) -> ParsedChatCompletionSnapshot:
    """Call Chat Completions with stream=True; returns the accumulated completion (with usage)."""
    from openai.lib.streaming.chat import ChatCompletionStreamState

    state = ChatCompletionStreamState()
    # Posted as built, not through chat.completions.create: the SDK's parameter transform walks every
    # message (about 0.1 ms each), which on a long thread costs more than the rest of the turn's work.
    # AzureOpenAI still maps the path to the deployment named by `model`.
    stream = client.post("/chat/completions", body={**request, "stream": True, "stream_options": {"include_usage": True}},
                         cast_to=ChatCompletionChunk, stream=True, stream_cls=openai.Stream[ChatCompletionChunk])
    with stream:
        for chunk in stream:
            state.handle_chunk(chunk)
            for choice in chunk.choices:
                if choice.index != 0:
                    continue
                if choice.delta.content:
                    on_text(choice.delta.content)
                for call in choice.delta.tool_calls or []:
                    function = call.function
                    on_tool(call.index, call.id, function.name if function else None,
                            (function.arguments or "") if function else "")
    # The accumulated snapshot, not get_final_completion(): that refuses answers cut at the length limit.
    return state.current_completion_snapshot


def fresh_turn_ids() -> dict[str, Any]:
    """The ids a turn's message and steps get (kept by its retries, see core.run_events.log)."""
    return {"message_id": ids.new_id("message"), "message_step_id": ids.new_id("step"),
            "tool_step_id": ids.new_id("step")}


class TurnOutput:
    """Shows one model turn of a run in its event log as the model produces it."""

    def __init__(self, stream: TurnStream, run: dict[str, Any], route: Callable[[str], Route], tools: Tools,
                 leading_parts: Sequence[dict[str, Any]] = ()):
        """`stream`: the turn's stream of the run's log (claimed by what `start` is given).
        `route(name)`: where a call of that name goes (its plug-in shows its pieces); `tools`: the
        plug-ins, for the stored calls. `leading_parts`: the content parts (figures) the message will
        show before its text."""
        self._run = run
        self._leading = list(leading_parts)
        self._stream = stream
        self._route, self._tools = route, tools
        self._calls: dict[int, dict[str, Any]] = {}  # index -> {"tool": its plug-in, "arguments"}
        self._earlier_showed_tools: bool | None = None
        self._claim: dict[str, Any] = {}
        self._claim_error: BaseException | None = None
        self._claiming: threading.Thread | None = None

    def start(self, claim: Callable[[], dict[str, Any]]) -> None:
        """Claim the turn in the background with `claim()` (it overlaps the model's first token); the
        ids this turn's message and steps get (the same on a retry) are ready when the first piece
        needs them, and what `claim` raised is raised then."""
        def claiming() -> None:
            try:
                self._claim = claim()
            except BaseException as error:  # handed to the turn's thread by `claim`
                self._claim_error = error

        self._claiming = threading.Thread(target=claiming, name=f"claim-{self._run['id']}", daemon=True)
        self._claiming.start()

    @property
    def claim(self) -> dict[str, Any]:
        """The turn's claim, once `start` has it (waits for it)."""
        if self._claiming is not None:
            self._claiming.join()
            self._claiming = None
        if self._claim_error is not None:
            raise self._claim_error
        return self._claim

    @property
    def message_id(self) -> str:
        return cast(str, self.claim["message_id"])

    @property
    def message_step_id(self) -> str:
        return cast(str, self.claim["message_step_id"])

    @property
    def tool_step_id(self) -> str:
        return cast(str, self.claim["tool_step_id"])

    @property
    def message_open(self) -> bool:
        """Whether the client was shown this turn's message (its text, or its opening)."""
        return self._stream.message_open

    def _message_opening(self) -> list[Event]:
        at = int(time.time())
        step = new_step(self._run, self.message_step_id, at, IN_PROGRESS, message_creation(self.message_id))
        message = message_record(self.message_id, self._run["thread_id"], at, "assistant", [], status=IN_PROGRESS,
                                 run=self._run)
        return payloads.opening(step, message) + self._image_parts()

    def _image_parts(self) -> list[Event]:
        return [payloads.content_part_delta(self.message_id, index, part) for index, part in enumerate(self._leading)]

    def text(self, piece: str) -> None:
        if not self.claim:
            raise RuntimeError("start() the turn first")
        index = len(self._leading)
        self._stream.text(piece, self._message_opening,
                          lambda text: payloads.message_delta(self.message_id, text, index))

    def tool(self, index: int, call_id: str | None, name: str | None, arguments: str) -> None:
        """A tool-call piece: the first names the call, later ones add arguments (as its plug-in shows them)."""
        if not self.claim:
            raise RuntimeError("start() the turn first")
        if self._earlier_showed_tools is None:  # asked once, before this attempt shows any call of its own
            self._earlier_showed_tools = self._stream.tools_shown_before
        if self._earlier_showed_tools:
            return  # an earlier attempt showed other calls: the step's final snapshot will tell
        events: list[Event] = []
        if not self._stream.tools_open and not self._calls:
            events += payloads.opening(new_step(self._run, self.tool_step_id, int(time.time()), IN_PROGRESS,
                                                {"type": "tool_calls", "tool_calls": []}))
        call = self._calls.get(index)
        step_id = self.tool_step_id
        if call is None:
            tool = self._route(name or "").tool
            call = self._calls[index] = {"tool": tool, "arguments": ""}
            events.append(tool.stream_start(step_id, index, call_id, name or "", arguments))
        else:
            piece = call["tool"].stream_arguments(step_id, index, arguments)
            events += [piece] if piece is not None else []
        call["arguments"] += arguments
        self._stream.tool_events(events)

    def finish(self, hand_over: int = 0, *, broken: bool = False) -> list[Event]:
        """After the model's last piece: show what calls show once whole (code_interpreter's input), then
        wait until all is stored — except up to `hand_over` events not written yet, returned to go with
        the turn's stored result. `broken`: the model's stream failed midway, so no call is whole and
        none is shown as if it were (its retried turn shows the calls the model really made)."""
        if not self.claim:  # also when the model said nothing: the turn's ids come from the claim
            raise RuntimeError("start() the turn first")
        ending = [] if broken else [call["tool"].stream_end(self.tool_step_id, index, call["arguments"])
                                    for index, call in sorted(self._calls.items())]
        self._stream.tool_events([event for event in ending if event is not None])
        if hand_over:
            return self._stream.hand_over(hand_over)
        self._stream.close()
        return []

    @property
    def head(self) -> Head:
        """The log's head as the turn last wrote it (after `finish`): the turn's stored result goes on from it."""
        return self._stream.head

    def shown(self, unwritten: Sequence[Event] = ()) -> TurnShown:
        """What this turn showed (after `finish`): the steps and message it opened, and the pieces
        `finish` handed over unwritten. The change storing the turn's records shows the rest from them."""
        opened = {self.message_step_id, self.message_id} if self._stream.message_open else set()
        opened |= {self.tool_step_id} if self._stream.tools_open else set()
        return TurnShown(frozenset(opened), tuple(unwritten), self._tools)


__all__ = ["Superseded", "TurnOutput", "TurnStream", "fresh_turn_ids", "stream_completion",
           "unfinished_message_events"]
INCOMPLETE_REASONS = {"cancelled": "run_cancelled", "expired": "run_expired", "failed": "run_failed"}


def unfinished_message_events(log: EventLog, run: dict[str, Any], stored: Callable[[str], bool], ended_as: str,
                              step_status: str) -> list[Event]:
    """Events closing a message the run's last turn showed but never stored (the run ended `ended_as`
    mid-answer): the message `incomplete` with the text its deltas carried, its step `step_status`."""
    claim = log.head(run["thread_id"], run["id"]).claim
    if not claim.get("message_open") or stored(claim["message_id"]):
        return []
    # Take the turn over: an attempt still streaming is fenced out (Superseded), so no delta follows the close.
    claim = TurnStream(log, run["thread_id"], run["id"], claim["turn"]).claim_turn(dict)
    pieces, after = [], 0
    while True:
        page = log.read(run["thread_id"], run["id"], after)
        pieces += [part["text"]["value"] for event in page if event.name == "thread.message.delta"
                   and event.data["id"] == claim["message_id"] for part in event.data["delta"]["content"]
                   if part["type"] == "text"]
        if not page:
            break
        after = page[-1].seq
    at = int(time.time())
    message = message_record(claim["message_id"], run["thread_id"], at, "assistant",
                             [{"type": "text", "text": {"value": "".join(pieces), "annotations": []}}],
                             status="incomplete", incomplete_reason=INCOMPLETE_REASONS.get(ended_as, "run_failed"),
                             run=run)
    step = close_step(new_step(run, claim["message_step_id"], at, IN_PROGRESS, message_creation(claim["message_id"])),
                      step_status, at)
    return turn_events(TurnShown(frozenset({step["id"], message["id"]})), [step], [message])  # its opening was shown
