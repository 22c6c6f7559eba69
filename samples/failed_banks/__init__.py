"""Failed Banks: Code Interpreter on a CSV of bank failures — counts, a chart and a CSV to download.

failed_banks.csv is the project's own data in the shape of the FDIC's public list the
seed used (header names even end with a non-breaking space, as the FDIC's do).
"""

from __future__ import annotations

from pathlib import Path

from samples.conversation import Turn
from samples.session import Session, about_user

NAME = "Failed Banks Assistant"
DATA = Path(__file__).parent / "data" / "failed_banks.csv"
INSTRUCTIONS = (
    "You analyse the list of failed US banks in failed_banks.csv (bank name, city, state, certificate number, "
    "acquiring institution, closing date like 3-Nov-23, fund). Use code for every figure; draw charts with "
    "matplotlib and save files the user asks for under /mnt/data.")
PROMPTS = [
    "Which state has had the most bank failures?",
    "Chart the number of bank failures per state for the ten states with the most failures.",
    "Make a CSV file with the number of bank failures per year that I can download.",
]


def run(session: Session) -> list[Turn]:
    file_id = session.upload(DATA)
    assistant_id = session.create_assistant(
        name=NAME, instructions=INSTRUCTIONS, tools=[{"type": "code_interpreter"}],
        tool_resources={"code_interpreter": {"file_ids": [file_id]}})
    chat = session.conversation(assistant_id, instructions=about_user("Jane Doe"))
    return session.ask_all(chat, PROMPTS)
