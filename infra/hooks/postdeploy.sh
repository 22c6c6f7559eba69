#!/bin/sh
# azd postdeploy hook: smoke-test the deployment just made (python -m smoke, standard library only).
# azd passes its environment values (the outputs of infra/main.bicep) as environment variables.
# The API key comes from SMOKE_API_KEY or, if the Azure CLI is signed in, from Key Vault; it reaches
# the smoke test on stdin, never on a command line.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
python=python3
[ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"

key="${SMOKE_API_KEY:-}"
status=""
if command -v az >/dev/null 2>&1; then
    if [ -z "$key" ]; then
        key=$(az keyvault secret show --vault-name "$AZURE_KEYVAULT_NAME" \
            --name "${API_KEY_VAULT_SECRET:-assistants-api-key}" --query value --output tsv 2>/dev/null || true)
    fi
    status=$(az resource show --resource-group "$AZURE_RESOURCE_GROUP" --resource-type Microsoft.Web/connections \
        --name "$OFFICE365_CONNECTION_NAME" --query properties.overallStatus --output tsv 2>/dev/null || true)
fi
consent="https://portal.azure.com/#@${AZURE_TENANT_ID}/resource/subscriptions/${AZURE_SUBSCRIPTION_ID}/resourceGroups/${AZURE_RESOURCE_GROUP}/providers/Microsoft.Web/connections/${OFFICE365_CONNECTION_NAME}/edit"

set -- --endpoint "$API_BASE_URL" --model "$AZURE_OPENAI_CHAT_DEPLOYMENT" --office365-consent-url "$consent"
[ -n "$status" ] && set -- "$@" --office365-status "$status"
cd "$root" || exit 1
if [ -n "$key" ]; then
    printf '%s\n' "$key" | "$python" -m smoke "$@" --key -
else
    "$python" -m smoke "$@" </dev/null
fi
