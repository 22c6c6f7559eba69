"""Sales Assistant: one assistant, several users at once, each in a thread of their own.

Four related CSVs (customers, sellers, inventory, orders) are joined by Code Interpreter.
Every user gets their own thread, with run-level instructions saying who they are, so the
same assistant serves them side by side without one user's conversation reaching another's.
The users' conversations run concurrently, as a web app's would.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from samples.conversation import Conversation, Turn, show
from samples.session import Session

NAME = "Sales Assistant"
DATA = Path(__file__).parent / "data"
FILES = ("customers.csv", "sellers.csv", "inventory.csv", "orders.csv")
INSTRUCTIONS = (
    "You are the sales assistant of a computer store. Its data: customers.csv (CustomerID, Name, State), "
    "sellers.csv (SellerID, Name, State), inventory.csv (ItemID, Description) and orders.csv (OrderID, CustomerID, "
    "SellerID, ItemID, Qty, Price per unit in dollars). Join them with code to answer. Only ever discuss the "
    "orders of the customer you are talking to.")
USERS = {  # customer id -> (name, what they ask)
    1000: ("Ana Ruiz", ["Hi, this is Ana Ruiz. What have I ordered so far, and how much did I spend in total?",
                        "Ana again: which seller handled my largest order?"]),
    1001: ("Tom Becker", ["Tom Becker here. How much have I spent with you altogether?",
                          "Tom again: who is my seller, and which state are they in?"]),
    1003: ("Mei Chen", ["Hello, Mei Chen speaking. List my orders with the item descriptions, please."]),
}


def customer_instructions(customer_id: int, name: str) -> str:
    return (f"You are talking to {name}, CustomerID {customer_id}. Address them by name and share only their "
            f"own orders.")


def run(session: Session) -> list[Turn]:
    file_ids = [session.upload(DATA / name) for name in FILES]
    assistant_id = session.create_assistant(
        name=NAME, instructions=INSTRUCTIONS, tools=[{"type": "code_interpreter"}],
        tool_resources={"code_interpreter": {"file_ids": file_ids}})
    chats = {customer_id: session.conversation(assistant_id, instructions=customer_instructions(customer_id, name))
             for customer_id, (name, _) in USERS.items()}

    def converse(customer_id: int) -> list[Turn]:
        chat: Conversation = chats[customer_id]
        return [chat.ask(prompt) for prompt in USERS[customer_id][1]]

    with ThreadPoolExecutor(max_workers=len(USERS)) as pool:
        results = dict(zip(USERS, pool.map(converse, USERS)))
    turns = []
    for customer_id, user_turns in results.items():
        name = USERS[customer_id][0]
        session.print(f"--- {name}'s thread ({chats[customer_id].thread_id})")
        for turn in user_turns:
            session.print(show(turn, who=name))
        turns.extend(user_turns)
    return turns
