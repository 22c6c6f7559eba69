#!/bin/sh
# azd postprovision hook: point local development at the resources just provisioned,
# issue the deployment's first API key into Key Vault, create the Azure AI Search index
# (with that backend), then print the one step ARM cannot do. azd passes its environment values (the outputs of infra/main.bicep) to
# this script as environment variables.
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

# --- The first API key ------------------------------------------------------------------------
# Every call to the deployed API needs a key issued by the service. The first one is issued here,
# once, to the principal azd-owner, and kept only in Key Vault (never printed): a rerun finds the
# secret and issues none. The key command reaches the app's storage as you (az login, through
# DefaultAzureCredential), unless AzureWebJobsStorage in the environment names another storage.
secret=${API_KEY_VAULT_SECRET:-assistants-api-key}
read_key="az keyvault secret show --vault-name $AZURE_KEYVAULT_NAME --name $secret --query value --output tsv"
attempts=8  # role assignments made by this provisioning can take a few minutes to apply
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

# Runs "$@" until it succeeds, retrying while Azure still refuses for want of a role assignment.
with_role_retries() {
    try=1
    until "$@" 2>"$errors"; do
        if [ "$try" -ge "$attempts" ] || ! grep -qiE 'forbidden|authoriz' "$errors"; then
            return 1
        fi
        echo "Waiting for this provisioning's role assignments to apply ($try/$attempts)..." >&2
        sleep 15
        try=$((try + 1))
    done
}

key_command() {
    (cd "$root" && AzureWebJobsStorage__accountName="$storage_account" AzureWebJobsStorage__clientId="" \
        "$python" -m core.api_keys "$@")
}

secret_exists() {
    az keyvault secret show --vault-name "$AZURE_KEYVAULT_NAME" --name "$secret" --query id --output none >/dev/null
}

store_key() {
    printf '%s' "$key" | az keyvault secret set --vault-name "$AZURE_KEYVAULT_NAME" --name "$secret" \
        --file /dev/stdin --encoding utf-8 --output none
}

first_key() {
    if ! command -v az >/dev/null 2>&1; then
        echo "No API key was issued: the Azure CLI is missing. Install it, run 'az login', then 'azd hooks run postprovision'."
        return 0
    fi
    if with_role_retries secret_exists; then
        echo "The API key is in Key Vault (secret '$secret'); none issued. Read it with:"
        echo "  $read_key"
        return 0
    fi
    if ! grep -q SecretNotFound "$errors"; then
        echo "No API key was issued: Key Vault could not be checked ($(head -n 1 "$errors"))."
        echo "Run 'az login', then 'azd hooks run postprovision'."
        return 0
    fi
    if [ -n "${AzureWebJobsStorage:-}" ]; then
        storage_account=""
    elif [ -n "${AZURE_STORAGE_ACCOUNT_NAME:-}" ]; then
        storage_account=$AZURE_STORAGE_ACCOUNT_NAME
    else
        echo "No API key was issued: AZURE_STORAGE_ACCOUNT_NAME is not set (run the hook with 'azd hooks run postprovision')."
        return 0
    fi
    if ! key=$(with_role_retries key_command create --principal azd-owner --name "first key (azd up)" --quiet); then
        echo "No API key was issued: the app's storage refused ($(tail -n 1 "$errors"))."
        echo "Run 'azd hooks run postprovision' again in a few minutes."
        return 0
    fi
    if ! with_role_retries store_key; then
        key_id=$(printf '%s\n' "$key" | (cd "$root" && "$python" -c 'import sys
from core.api_keys import KEY_ID_LENGTH, key_hash
print(key_hash(sys.stdin.readline().strip())[:KEY_ID_LENGTH])')) || true
        key_command revoke "$key_id" >/dev/null 2>&1 || true
        echo "No API key was stored: Key Vault refused ($(head -n 1 "$errors")); the key issued was revoked."
        echo "Run 'azd hooks run postprovision' again in a few minutes."
        return 0
    fi
    echo "Issued the first API key (principal azd-owner) and stored it in Key Vault as '$secret'. Read it with:"
    echo "  $read_key"
}

# --- The Azure AI Search index ----------------------------------------------------------------
# With fileSearchBackend azure_ai_search, file_search keeps its chunks in one search index. The app's
# identity may only read and write its documents, so the index is created here, as you (az or azd
# sign-in, through DefaultAzureCredential; Search Service Contributor on the service), from the one
# schema in core/file_search/azure_search.py, with the embeddings deployment's vector size. A rerun
# leaves an existing index of that size as it is, and refuses to change the size of one.
index_command() {
    (cd "$root" && "$python" -m core.file_search.azure_search create-index \
        --endpoint "$AZURE_SEARCH_ENDPOINT" --dimensions "${AZURE_OPENAI_EMBEDDINGS_DIMENSIONS:-1536}")
}

search_index() {
    if [ -z "${AZURE_SEARCH_ENDPOINT:-}" ]; then
        return 0  # the local file_search backend: no search service
    fi
    if ! with_role_retries index_command; then
        echo "The search index was not created: $(tail -n 1 "$errors")"
        echo "file_search fails until it is: run 'az login' (or 'azd auth login'), then 'azd hooks run postprovision'."
    fi
}

first_key
search_index
if [ -n "${AZURE_AUTH_CLIENT_ID:-}" ]; then
    echo "Access: App Service Authentication is on, so every call needs an Entra ID token for app $AZURE_AUTH_CLIENT_ID;"
    echo "the platform refuses other calls, API keys included. See docs/deploy-to-azure.md."
else
    echo "Access: every call needs an API key (api-key or Authorization: Bearer); issue more with 'python -m core.api_keys create'. See docs/deploy-to-azure.md."
fi
