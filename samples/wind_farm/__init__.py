"""Wind Farm: turbine readings, their normal ranges, due maintenance — and an e-mail to the site manager.

The e-mail deliberately uses the service's server-side `send_email` tool: the assistant
declares it and opts in with metadata {"server_tools": "send_email"}, so where the operator
enabled it (SERVER_TOOLS_ENABLED, SEND_EMAIL_LOGIC_APP_URL, TOOL_EMAIL_ALLOWED_RECIPIENTS)
the service sends the mail itself and the client never sees the call. Where the operator
has not, the call comes back as `requires_action` like any function, and this client sends
it through the seed's EMAIL_URI Logic App instead (or says honestly that it could not).
"""

from __future__ import annotations

from pathlib import Path

from samples.conversation import Turn
from samples.functions import CLIENT_FUNCTIONS
from samples.session import Session, about_user

NAME = "Turbine Management Assistant"
DATA = Path(__file__).parent / "data" / "turbines.csv"
INSTRUCTIONS = (
    "You help manage a wind turbine farm from turbines.csv (Turbine_ID, Wind_Speed in miles per hour, RPM, "
    "Voltage in kV, Maintenance_Date of the last maintenance). Normal operating ranges: output voltage 33-35 kV "
    "and 15-25 RPM. Maintenance is due 12 months after the last one. Use code for every figure and chart. "
    "Greet the user with 'Welcome to the Turbine Management Assistant.'")
SEND_EMAIL = {"type": "function", "function": {
    "name": "send_email",
    "description": "Send an e-mail from the farm's mailbox.",
    "parameters": {"type": "object", "properties": {
        "to": {"type": "string", "description": "Recipient e-mail address(es), separated by ;"},
        "subject": {"type": "string"}, "body": {"type": "string"}},
        "required": ["to", "subject", "body"]}}}
PROMPTS = [
    "What is the status of turbines 1001 and 1003?",
    "Which turbines are operating outside the normal ranges? Answer in JSON only, as "
    '[{"turbine": "", "voltage": 0, "rpm": 0, "reason": ""}].',
    "Chart the voltage and RPM of every turbine against the normal ranges.",
    "Which turbines are due for maintenance?",
    "Email the list of turbines due for maintenance to the site manager at ops.manager@contoso.com.",
]


def run(session: Session) -> list[Turn]:
    file_id = session.upload(DATA)
    assistant_id = session.create_assistant(
        name=NAME, instructions=INSTRUCTIONS, tools=[{"type": "code_interpreter"}, SEND_EMAIL],
        tool_resources={"code_interpreter": {"file_ids": [file_id]}}, metadata={"server_tools": "send_email"})
    chat = session.conversation(assistant_id, functions=CLIENT_FUNCTIONS, instructions=about_user("Jane Doe"))
    return session.ask_all(chat, PROMPTS)
