"""Failed Banks, Wind Farm (with the server-side send_email) and Sales Assistant (several users at once)."""

from __future__ import annotations

import collections
import csv
import datetime
import io
import json
import re

import pytest
from PIL import Image

from samples import failed_banks, sales_assistant, wind_farm
from scripted_model import reply_tool_calls
from tests.samples.conftest import (
    CLIENT_MAIL_PATH,
    SERVER_MAIL_PATH,
    answer,
    code_call,
    leftovers,
    requests_about,
    script,
    tool_messages,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

READ_BANKS = ("import pandas as pd\ndf = pd.read_csv('/mnt/data/failed_banks.csv')\n"
              "df.columns = df.columns.str.strip()\n")  # the FDIC's header names end with a non-breaking space


def bank_rows() -> list[dict]:
    with failed_banks.DATA.open(encoding="utf-8", newline="") as stream:
        return [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(stream)]


def test_failed_banks_most_failures_chart_and_a_csv_to_download(run_sample, scripted, service):
    most, chart, per_year = failed_banks.PROMPTS
    script(scripted, most,
           code_call(READ_BANKS + "counts = df.State.value_counts()\nprint(counts.index[0], counts.iloc[0])"),
           answer("Georgia has had the most failures."))
    script(scripted, chart,
           code_call(READ_BANKS + "import matplotlib.pyplot as plt\n"
                     "df.State.value_counts().head(10).plot.bar(title='Bank failures per state')"),
           answer("Here is the chart of the ten states."))
    script(scripted, per_year,
           code_call(READ_BANKS + "df['Year'] = pd.to_datetime(df['Closing Date'], format='%d-%b-%y').dt.year\n"
                     "df.groupby('Year').size().rename('Failures').to_csv('/mnt/data/failures_per_year.csv')"),
           answer("Download it here: [failures_per_year.csv](sandbox:/mnt/data/failures_per_year.csv)"))

    code, out = run_sample("failed_banks")

    assert code == 0, out
    states = collections.Counter(row["State"] for row in bank_rows())
    (state, count), (_, runner_up) = states.most_common(2)
    assert count > runner_up and f"    > {state} {count}\n" in out
    [png] = [path for path in run_sample.out_dir.iterdir() if path.suffix == ".png"]
    assert Image.open(io.BytesIO(png.read_bytes())).size[0] > 100
    years = collections.Counter(datetime.datetime.strptime(row["Closing Date"], "%d-%b-%y").year
                                for row in bank_rows())
    saved = (run_sample.out_dir / "failures_per_year.csv").read_text()
    assert saved == "Year,Failures\n" + "".join(f"{year},{n}\n" for year, n in sorted(years.items()))
    assert f"[saved {run_sample.out_dir / 'failures_per_year.csv'}]" in out
    assert leftovers(service) == {"assistants": 0, "files": 0}


def turbines() -> list[dict]:
    with wind_farm.DATA.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


OUT_OF_RANGE = """import json, pandas as pd
df = pd.read_csv('/mnt/data/turbines.csv')
rows = []
for t in df.itertuples():
    reasons = [name for name, ok in (('Voltage', 33 <= t.Voltage <= 35), ('RPM', 15 <= t.RPM <= 25)) if not ok]
    if reasons:
        rows.append({'turbine': str(t.Turbine_ID), 'voltage': int(t.Voltage), 'rpm': int(t.RPM),
                     'reason': ' and '.join(reasons) + ' outside of normal range.'})
print(json.dumps(rows))
"""


def test_wind_farm_ranges_from_the_csv_and_mail_sent_by_the_server_tool(run_sample, scripted, logic_app, service):
    _, outside, _, due, email = wind_farm.PROMPTS
    script(scripted, outside, code_call(OUT_OF_RANGE), answer("These turbines are outside the normal ranges."))
    script(scripted, due,
           code_call("import pandas as pd\n"
                     "df = pd.read_csv('/mnt/data/turbines.csv', parse_dates=['Maintenance_Date'])\n"
                     "due = df[df.Maintenance_Date + pd.DateOffset(months=12) <= '2026-11-24']\n"
                     "print(due.Turbine_ID.tolist())"),
           answer("These turbines are due for maintenance."))
    mail = {"to": "ops.manager@contoso.com", "subject": "Turbines due for maintenance",
            "body": "Turbines 1001, 1003, 1007, 1009, 1011 and 1013 are due for maintenance."}
    script(scripted, email, reply_tool_calls([{"name": "send_email", "arguments": mail}]),
           answer("I have e-mailed the list to the site manager."))
    logic_app.status = 200

    code, out = run_sample("wind_farm")

    assert code == 0, out
    expected = [{"turbine": row["Turbine_ID"], "voltage": int(row["Voltage"]), "rpm": int(row["RPM"]),
                 "reason": " and ".join(name for name, ok in (
                     ("Voltage", 33 <= int(row["Voltage"]) <= 35), ("RPM", 15 <= int(row["RPM"]) <= 25)) if not ok)
                 + " outside of normal range."}
                for row in turbines() if not (33 <= int(row["Voltage"]) <= 35 and 15 <= int(row["RPM"]) <= 25)]
    printed = re.search(r"^    > (\[\{.*\}\])$", out, re.MULTILINE).group(1)
    assert json.loads(printed) == expected and len(expected) >= 3
    overdue = [int(row["Turbine_ID"]) for row in turbines()
               if datetime.date.fromisoformat(row["Maintenance_Date"]) <= datetime.date(2025, 11, 24)]
    assert f"    > {overdue}\n" in out
    # The assistant opted into the server's send_email and this deployment enabled it: the service sent the
    # mail through its Logic App; the client was never asked (no function call printed, EMAIL_URI unused).
    assert logic_app.received == [{"path": SERVER_MAIL_PATH, "body": mail}]
    assert "[function send_email" not in out
    assert tool_messages(scripted, email) and all("error" not in told for told in tool_messages(scripted, email))
    assert leftovers(service) == {"assistants": 0, "files": 0}


def test_wind_farm_mail_falls_back_to_the_client_where_the_operator_did_not_enable_it(
        run_sample, scripted, logic_app, devhost):
    """The session's devhost enables no server tool: the opted-in call comes back as requires_action."""
    email = wind_farm.PROMPTS[-1]
    mail = {"to": "ops.manager@contoso.com", "subject": "Maintenance", "body": "Turbines 1003 and 1007 are due."}
    script(scripted, email, reply_tool_calls([{"name": "send_email", "arguments": mail}]), answer("Sent."))

    code, out = run_sample("wind_farm", host=devhost)

    assert code == 0, out
    assert "[function send_email(" in out
    assert logic_app.received == [{"path": CLIENT_MAIL_PATH, "body": {
        "to": "ops.manager@contoso.com", "subject": "Maintenance", "content": "Turbines 1003 and 1007 are due."}}]


def orders_of(customer_id: int) -> list[dict]:
    with (sales_assistant.DATA / "orders.csv").open(encoding="utf-8") as stream:
        return [row for row in csv.DictReader(stream) if int(row["CustomerID"]) == customer_id]


SPEND = ("import pandas as pd\norders = pd.read_csv('/mnt/data/orders.csv')\n"
         "mine = orders[orders.CustomerID == {customer}]\n"
         "print(f'{{len(mine)}} orders, {{(mine.Qty * mine.Price).sum():.2f}} dollars')")


def test_sales_assistant_serves_several_users_at_once_each_in_their_own_thread(run_sample, scripted, service):
    for customer_id, (name, prompts) in sales_assistant.USERS.items():
        script(scripted, prompts[0], code_call(SPEND.format(customer=customer_id)), answer(f"Thanks {name}."))

    code, out = run_sample("sales_assistant")

    assert code == 0, out
    threads = re.findall(r"^--- (.+)'s thread \((thread_\w+)\)$", out, re.MULTILINE)
    assert [name for name, _ in threads] == [name for name, _ in sales_assistant.USERS.values()]
    assert len({thread for _, thread in threads}) == len(threads)  # one thread per user
    for customer_id, (_name, prompts) in sales_assistant.USERS.items():
        mine = orders_of(customer_id)
        total = sum(int(row["Qty"]) * float(row["Price"]) for row in mine)
        assert f"    > {len(mine)} orders, {total:.2f} dollars\n" in out
        for prompt in prompts:
            [first, *_] = requests_about(scripted, prompt)
            system = "\n".join(m["content"] for m in first["messages"] if m["role"] == "system")
            assert f"CustomerID {customer_id}" in system  # the run told the model who is asking
            users = [m["content"] for m in first["messages"] if m["role"] == "user"]
            others = [p for cid, (_, ps) in sales_assistant.USERS.items() if cid != customer_id for p in ps]
            assert not any(other in str(users) for other in others)  # no other user's words in this thread
    assert leftovers(service) == {"assistants": 0, "files": 0}
