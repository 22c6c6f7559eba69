# azd postdeploy hook (Windows): the same as postdeploy.sh. Smoke-tests the deployment just made
# (python -m smoke, standard library only). The API key comes from SMOKE_API_KEY or, if the Azure
# CLI is signed in, from Key Vault; it reaches the smoke test on stdin, never on a command line.
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$python = Join-Path $root '.venv/Scripts/python.exe'
if (-not (Test-Path $python)) { $python = 'python' }

$key = $env:SMOKE_API_KEY
$status = ''
if (Get-Command az -ErrorAction SilentlyContinue) {
    if (-not $key) {
        $entry = if ($env:API_KEY_VAULT_SECRET) { $env:API_KEY_VAULT_SECRET } else { 'assistants-api-key' }
        $key = az keyvault secret show --vault-name $env:AZURE_KEYVAULT_NAME --name $entry --query value --output tsv 2>$null
        if ($LASTEXITCODE -ne 0) { $key = '' }
    }
    $status = az resource show --resource-group $env:AZURE_RESOURCE_GROUP --resource-type Microsoft.Web/connections `
        --name $env:OFFICE365_CONNECTION_NAME --query properties.overallStatus --output tsv 2>$null
    if ($LASTEXITCODE -ne 0) { $status = '' }
}
$consent = "https://portal.azure.com/#@$($env:AZURE_TENANT_ID)/resource/subscriptions/$($env:AZURE_SUBSCRIPTION_ID)/resourceGroups/$($env:AZURE_RESOURCE_GROUP)/providers/Microsoft.Web/connections/$($env:OFFICE365_CONNECTION_NAME)/edit"

$arguments = @('-m', 'smoke', '--endpoint', $env:API_BASE_URL, '--model', $env:AZURE_OPENAI_CHAT_DEPLOYMENT,
    '--office365-consent-url', $consent)
if ($status) { $arguments += @('--office365-status', $status) }
Push-Location $root
try {
    if ($key) { $key | & $python @arguments --key - } else { '' | & $python @arguments }
    exit $LASTEXITCODE
} finally {
    Pop-Location
}
