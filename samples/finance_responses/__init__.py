"""Personal Finance, moving to the Responses API: one conversation, begun on a thread, continued by responses.

The seed's portfolio assistant, without code interpreter (responses here have no built-in tools
yet): the holdings come from the project's portfolio.csv into the instructions, prices from
`get_stock_price` and e-mail from `send_email`, both run by this client, as in the seed.

1. An Assistants-API client does what it always did: an assistant, a thread, a run; the run's
   `requires_action` is answered with `submit_tool_outputs`.
2. The same thread is continued with the Responses API: `responses.create(conversation=<thread id>)`
   (a conversation is a thread here, so a `thread_` id is a conversation id). The model sees the
   thread's history; instructions and tools go with each response, not with an assistant. A
   function call ends the response; the client answers it with a `function_call_output` item in
   the next response on the same conversation.
3. The history is read back through the Conversations API (`conversations.items.list`): the
   Assistants run's and the responses' messages, and between them their function calls with the
   outputs the client gave, one history.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from samples.conversation import FunctionCall, Turn, call_function, show
from samples.functions import CLIENT_FUNCTIONS, GET_STOCK_PRICE, SEND_EMAIL
from samples.session import Session, about_user

NAME = "Portfolio Management Assistant"
DATA = Path(__file__).parent.parent / "personal_finance" / "data" / "portfolio.csv"
ASSISTANTS_PROMPTS = ["Which investments do I hold, and what is MSFT trading at?"]
RESPONSES_PROMPTS = [
    "What is my portfolio worth at the latest prices?",
    "Please email a short summary of my portfolio's value to jane.doe@contoso.com.",
]
MAX_CALL_ROUNDS = 5  # a model that keeps calling functions is stopped here


def holdings(path: Path = DATA) -> str:
    """The portfolio as one line per holding, for the instructions (no code interpreter to read the CSV)."""
    with path.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    return "\n".join(f"- {row['Symbol']}: {row['QTY']} shares at an average cost of ${row['Average_Cost']}"
                     for row in rows)


def instructions() -> str:
    return ("You are a personal securities assistant: polite, professional and precise. The user's portfolio:\n"
            f"{holdings()}\nGet current prices with get_stock_price and e-mail with send_email. For questions "
            "that are not about the portfolio, say 'Please contact a representative for more assistance.'")


def response_tool(assistant_tool: dict) -> dict:
    """An Assistants function tool in the Responses shape: the function's fields at the top level."""
    return {"type": "function", **assistant_tool["function"], "strict": False}


TOOLS = [response_tool(GET_STOCK_PRICE), response_tool(SEND_EMAIL)]


class ResponsesChat:
    """The Responses-API side: each prompt is a response on the conversation; function calls are answered
    with `function_call_output` items in a follow-up response on the same conversation."""

    def __init__(self, session: Session, conversation_id: str, instructions: str):
        self.session = session
        self.conversation_id = conversation_id
        self.instructions = instructions

    def _respond(self, input_: Any) -> Any:
        response = self.session.client.responses.create(
            model=self.session.model, conversation=self.conversation_id, instructions=self.instructions,
            tools=TOOLS, input=input_)
        self.session.track_response(response.id)
        self.session.print(f"  [response {response.id}: {response.status}, "
                           f"{[item.type for item in response.output]}]")
        return response

    def ask(self, prompt: str) -> Turn:
        turn = Turn(prompt=prompt)
        response = self._respond(prompt)
        for _ in range(MAX_CALL_ROUNDS):
            calls = [item for item in response.output if item.type == "function_call"]
            if response.status != "completed" or not calls:
                break
            outputs = []
            for call in calls:
                arguments, output = call_function(CLIENT_FUNCTIONS, call.name, call.arguments)
                turn.function_calls.append(FunctionCall(call.name, arguments, output))
                outputs.append({"type": "function_call_output", "call_id": call.call_id, "output": output})
            response = self._respond(outputs)
        turn.status = response.status
        turn.answer = response.output_text if response.status == "completed" else \
            f"[response {response.status}: {response.error.message if response.error else ''}]"
        return turn


def print_items(session: Session, conversation_id: str) -> list:
    """The conversation as the Conversations API lists it, oldest first."""
    items = list(session.client.conversations.items.list(conversation_id, order="asc"))
    session.print(f"Conversation {conversation_id}, read through client.conversations.items.list:")
    for item in items:
        if item.type == "message":
            text = " ".join(getattr(part, "text", "") for part in item.content)
            session.print(f"  [{item.type} {item.id}] {item.role}: {text}")
        elif item.type == "function_call":
            session.print(f"  [{item.type} {item.id}] {item.name}({item.arguments}) call_id={item.call_id}")
        elif item.type == "function_call_output":
            session.print(f"  [{item.type} {item.id}] call_id={item.call_id}: {item.output}")
        else:
            session.print(f"  [{item.type} {item.id}]")
    return items


def run(session: Session) -> list[Turn]:
    # 1. Assistants API: an assistant, a thread, a run answered with submit_tool_outputs.
    assistant_id = session.create_assistant(name=NAME, instructions=instructions(),
                                            tools=[GET_STOCK_PRICE, SEND_EMAIL])
    thread = session.conversation(assistant_id, functions=CLIENT_FUNCTIONS, instructions=about_user("Jane Doe"))
    session.print(f"Assistants API: thread {thread.thread_id}")
    turns = session.ask_all(thread, ASSISTANTS_PROMPTS)
    # 2. Responses API, on the same thread: it is the conversation.
    session.print(f"Responses API: conversation={thread.thread_id}")
    chat = ResponsesChat(session, thread.thread_id, instructions() + "\n" + about_user("Jane Doe"))
    for prompt in RESPONSES_PROMPTS:
        turns.append(chat.ask(prompt))
        session.print(show(turns[-1], "user (responses)"))
    # 3. One history: every message and function call of both APIs, as conversation items.
    print_items(session, thread.thread_id)
    return turns
