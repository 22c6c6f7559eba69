#!/bin/sh
# azd postprovision hook: point local development at the resources just provisioned,
# then print the one step ARM cannot do. azd passes its environment values (the
# outputs of infra/main.bicep) to this script as environment variables.
#
# local.settings.json gets the model, the code interpreter pool and the Logic App URLs.
# Storage stays as it was (Azurite by default): a local host sharing the deployed
# app's task hub would steal its orchestration work items.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)

# The Logic App URLs exist only in Key Vault; read them if the Azure CLI is signed in.
vault_entry() {
    if command -v az >/dev/null 2>&1; then
        az keyvault secret show --vault-name "$AZURE_KEYVAULT_NAME" --name "$1" \
            --query value --output tsv 2>/dev/null || true
    fi
}

SEND_EMAIL_LOGIC_APP_URL=$(vault_entry "$SEND_EMAIL_URL_VAULT_ENTRY")
CREATE_CALENDAR_EVENT_LOGIC_APP_URL=$(vault_entry "$CREATE_CALENDAR_EVENT_URL_VAULT_ENTRY")
CODE_INTERPRETER_SANDBOX=aca
export SEND_EMAIL_LOGIC_APP_URL CREATE_CALENDAR_EVENT_LOGIC_APP_URL CODE_INTERPRETER_SANDBOX

python=python3
[ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"

"$python" - "$root" <<'PY'
import json, os, sys
from pathlib import Path

root = Path(sys.argv[1])
target, sample = root / "local.settings.json", root / "local.settings.sample.json"
source = target if target.exists() else sample
settings = json.loads(source.read_text()) if source.exists() else {"IsEncrypted": False}
values = settings.setdefault("Values", {})
for name in (
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_CHAT_DEPLOYMENT",
    "AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT",
    "CODE_INTERPRETER_SANDBOX",
    "ACA_SESSION_POOL_ENDPOINT",
    "SEND_EMAIL_LOGIC_APP_URL",
    "CREATE_CALENDAR_EVENT_LOGIC_APP_URL",
):
    if os.environ.get(name):
        values[name] = os.environ[name]
target.write_text(json.dumps(settings, indent=2) + "\n")
print(f"Wrote {target.name}: local runs now use Azure OpenAI, the sessions pool and the Logic Apps.")
PY

if [ -z "$SEND_EMAIL_LOGIC_APP_URL" ]; then
    echo "The Logic App URLs were not copied (Azure CLI missing or not signed in): run 'az login' and 'azd hooks run postprovision' to add them."
fi

connection="https://portal.azure.com/#@${AZURE_TENANT_ID}/resource/subscriptions/${AZURE_SUBSCRIPTION_ID}/resourceGroups/${AZURE_RESOURCE_GROUP}/providers/Microsoft.Web/connections/${OFFICE365_CONNECTION_NAME}/edit"
cat <<EOF2

One manual step: the email and calendar tools send through an Office 365 connection
that a person must sign in once. Open
  $connection
choose "Authorize", sign in with the mailbox that should send, then "Save".

API: ${API_BASE_URL}
EOF2

if [ -z "${AZURE_AUTH_CLIENT_ID:-}" ]; then
    echo "Warning: App Service Authentication is off, so the API is open to anyone with its URL. See docs/deploy-to-azure.md."
fi
