"""Math Tutor (as the `python -m samples` command) and Personal Finance (functions answered by the client)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from PIL import Image

from samples import functions, math_tutor, personal_finance
from scripted_model import reply_tool_calls
from tests.samples.conftest import CLIENT_MAIL_PATH, MODEL, answer, code_call, leftovers, script, tool_messages
from tests.support.devhost_proc import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

CLOSES = {"MSFT": 420.10, "AAPL": 228.35, "NVDA": 131.60, "AMZN": 201.20, "KO": 62.45}


def test_math_tutor_as_a_command_solves_the_equation_in_python(sample_host, principal_key, scripted, service):
    solve, roots = math_tutor.PROMPTS
    script(scripted, solve,
           code_call("from sympy import Eq, solve, symbols\nx = symbols('x')\nprint(solve(Eq(3*x + 11, 14), x))"),
           answer("Subtract 11 from both sides to get 3x = 3, so x = 1."))
    script(scripted, roots,
           code_call("from sympy import solve, symbols\nx = symbols('x')\nprint(solve(x**2 - 5*x + 6, x))"),
           answer("The roots are x = 2 and x = 3."))
    env = {**os.environ, "OPENAI_URI": sample_host.root_url, "OPENAI_KEY": principal_key,
           "OPENAI_VERSION": "2024-02-15-preview", "OPENAI_GPT_DEPLOYMENT": MODEL, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "samples", "math_tutor"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "    > [1]\n" in done.stdout and "    > [2, 3]\n" in done.stdout  # the sandbox's real output
    assert "assistant: Subtract 11 from both sides to get 3x = 3, so x = 1." in done.stdout
    assert "Service: " + sample_host.root_url in done.stdout and principal_key not in done.stdout
    assert leftovers(service) == {"assistants": 0, "files": 0}


def bars(close: float) -> pd.DataFrame:
    """Daily bars as yfinance's Ticker.history returns them (a weekend: Friday is the last close)."""
    index = pd.DatetimeIndex([pd.Timestamp("2026-11-19", tz="America/New_York"),
                              pd.Timestamp("2026-11-20", tz="America/New_York")], name="Date")
    return pd.DataFrame({"Open": [close - 1, close], "High": [close, close], "Low": [close - 2, close - 1],
                         "Close": [close - 1.5, close], "Volume": [1000, 1200]}, index=index)


def portfolio() -> list[dict]:
    with personal_finance.DATA.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_personal_finance_prices_value_chart_and_email_answered_by_the_client(run_sample, scripted, monkeypatch,
                                                                              logic_app, service):
    asked = []
    monkeypatch.setattr(functions, "price_history", lambda symbol: asked.append(symbol) or bars(CLOSES[symbol]))
    holdings, worth, _, chart, email = personal_finance.PROMPTS
    script(scripted, holdings,
           code_call("import pandas as pd\nprint(', '.join(pd.read_csv('/mnt/data/portfolio.csv').Symbol))"),
           answer("You hold MSFT, AAPL, NVDA, AMZN and KO."))
    symbols = [row["Symbol"] for row in portfolio()]
    script(scripted, worth,
           reply_tool_calls([{"name": "get_stock_price", "arguments": {"symbol": s}} for s in symbols]),
           code_call("import pandas as pd\ndf = pd.read_csv('/mnt/data/portfolio.csv')\n"
                     f"prices = {CLOSES!r}\n"
                     "print(f'{(df.QTY * df.Symbol.map(prices)).sum():.2f}')"),
           answer("Your portfolio is worth the total above."))
    script(scripted, chart,
           code_call("import pandas as pd, matplotlib.pyplot as plt\ndf = pd.read_csv('/mnt/data/portfolio.csv')\n"
                     f"prices = {CLOSES!r}\n"
                     "gain = (df.Symbol.map(prices) - df.Average_Cost) * df.QTY\n"
                     "plt.bar(df.Symbol, gain)\nplt.title('Gain or loss per holding')"),
           answer("Here is the chart."))
    script(scripted, email,
           reply_tool_calls([{"name": "send_email", "arguments": {
               "to": "jane.doe@contoso.com", "content": "Your portfolio is worth 52,000 dollars."}}]),
           answer("I asked the mail service to send it."))

    code, out = run_sample("personal_finance")

    assert code == 0, out
    assert "    > MSFT, AAPL, NVDA, AMZN, KO\n" in out
    assert asked == symbols  # every price came from the (stood-in) yfinance boundary, in the client
    seen = [json.loads(message) for message in tool_messages(scripted, worth) if message.startswith("{")]
    assert {(p["symbol"], p["close"], p["date"]) for p in seen} == {(s, CLOSES[s], "2026-11-20") for s in symbols}
    expected = sum(int(row["QTY"]) * CLOSES[row["Symbol"]] for row in portfolio())
    assert f"    > {expected:.2f}\n" in out
    [png] = [path for path in run_sample.out_dir.iterdir() if path.suffix == ".png"]
    assert Image.open(io.BytesIO(png.read_bytes())).format == "PNG"
    assert logic_app.received == [{"path": CLIENT_MAIL_PATH, "body": {
        "to": "jane.doe@contoso.com", "content": "Your portfolio is worth 52,000 dollars."}}]
    assert '-> {"status": "accepted"' in out  # what the model was told: the Logic App's 202, not "Email sent"
    assert leftovers(service) == {"assistants": 0, "files": 0}


def test_a_failing_logic_app_is_reported_to_the_model_as_not_sent(run_sample, scripted, monkeypatch, logic_app):
    monkeypatch.setattr(functions, "price_history", lambda symbol: bars(CLOSES.get(symbol, 1.0)))
    logic_app.status = 502
    email = personal_finance.PROMPTS[-1]
    script(scripted, email,
           reply_tool_calls([{"name": "send_email", "arguments": {"to": "jane.doe@contoso.com", "content": "Hi"}}]),
           answer("Sorry, the e-mail could not be sent."))
    code, out = run_sample("personal_finance")
    assert code == 0, out
    [told] = tool_messages(scripted, email)
    assert json.loads(told) == {"error": "the e-mail was not sent: the Logic App answered HTTP 502"}
