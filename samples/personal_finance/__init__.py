"""Personal Finance: a portfolio CSV, live stock prices and an e-mailed summary.

Seed-faithful: like the seed's notebook, the assistant declares `get_stock_price(symbol)`
and `send_email(to, content)` as its own functions and this client answers them when the
run asks (`requires_action`): prices from Yahoo Finance through yfinance, e-mail through
the Logic App at EMAIL_URI. Code Interpreter does the arithmetic and the chart on
portfolio.csv. (The service's server-side tools are shown by the Wind Farm sample.)
"""

from __future__ import annotations

from pathlib import Path

from samples.conversation import Turn
from samples.functions import CLIENT_FUNCTIONS, GET_STOCK_PRICE, SEND_EMAIL
from samples.session import Session, about_user

NAME = "Portfolio Management Assistant"
DATA = Path(__file__).parent / "data" / "portfolio.csv"
INSTRUCTIONS = (
    "You are a personal securities assistant: polite, professional and precise. Answer from the user's "
    "portfolio file (columns Symbol, Average_Cost per share in dollars, QTY shares held). Get current prices "
    "with get_stock_price, and use code to calculate. For questions that are not about the portfolio, say "
    "'Please contact a representative for more assistance.' If the user asks for help, list questions you "
    "can answer.")
PROMPTS = [
    "Which investments do I hold, according to my portfolio file?",
    "What is my portfolio worth at the latest prices?",
    "Which holding has gained the most, and which the least?",
    "Chart the gain or loss of each holding.",
    "Please email a short summary of my portfolio's value to jane.doe@contoso.com.",
]


def run(session: Session) -> list[Turn]:
    file_id = session.upload(DATA)
    assistant_id = session.create_assistant(
        name=NAME, instructions=INSTRUCTIONS,
        tools=[{"type": "code_interpreter"}, GET_STOCK_PRICE, SEND_EMAIL],
        tool_resources={"code_interpreter": {"file_ids": [file_id]}})
    chat = session.conversation(assistant_id, functions=CLIENT_FUNCTIONS, instructions=about_user("Jane Doe"))
    return session.ask_all(chat, PROMPTS)
