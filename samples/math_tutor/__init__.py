"""Math Tutor: the seed's first assistant — code_interpreter works the maths out in Python.

Shows the foundations: an assistant with a tool, a thread, messages, runs with
run-level instructions, and the run's steps (the code it ran and what it printed).
"""

from __future__ import annotations

from samples.conversation import Turn
from samples.session import Session, about_user

NAME = "Math Tutor"
INSTRUCTIONS = ("You are a patient personal math tutor. For every question, write and run Python code to work "
                "out the answer, then explain the steps in plain words.")
PROMPTS = [
    "Please help me solve the equation 3x + 11 = 14.",
    "Thanks! Now what are the roots of x^2 - 5x + 6 = 0?",
]


def run(session: Session) -> list[Turn]:
    assistant_id = session.create_assistant(name=NAME, instructions=INSTRUCTIONS, tools=[{"type": "code_interpreter"}])
    chat = session.conversation(assistant_id, instructions=about_user("Jane Doe"))
    return session.ask_all(chat, PROMPTS)
