# azd postprovision hook (Windows): the same as postprovision.sh. azd passes its
# environment values (the outputs of infra/main.bicep) as environment variables.
#
# local.settings.json gets the model, the code interpreter pool and the Logic App URLs.
# Storage stays as it was (Azurite by default): a local host sharing the deployed
# app's task hub would steal its orchestration work items.
$ErrorActionPreference = 'Stop'

$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

# The Logic App URLs exist only in Key Vault; read them if the Azure CLI is signed in.
function Get-VaultEntry([string] $name) {
    if (-not (Get-Command az -ErrorAction SilentlyContinue)) { return '' }
    $value = az keyvault secret show --vault-name $env:AZURE_KEYVAULT_NAME --name $name --query value --output tsv 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return $value
}

$target = Join-Path $root 'local.settings.json'
$sample = Join-Path $root 'local.settings.sample.json'
$source = if (Test-Path $target) { $target } else { $sample }
$settings = if (Test-Path $source) { Get-Content $source -Raw | ConvertFrom-Json -AsHashtable } else { @{ IsEncrypted = $false } }
if (-not $settings.ContainsKey('Values')) { $settings['Values'] = @{} }

$values = [ordered]@{
    AZURE_OPENAI_ENDPOINT               = $env:AZURE_OPENAI_ENDPOINT
    AZURE_OPENAI_API_VERSION            = $env:AZURE_OPENAI_API_VERSION
    AZURE_OPENAI_CHAT_DEPLOYMENT        = $env:AZURE_OPENAI_CHAT_DEPLOYMENT
    AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT  = $env:AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT
    CODE_INTERPRETER_SANDBOX            = 'aca'
    ACA_SESSION_POOL_ENDPOINT           = $env:ACA_SESSION_POOL_ENDPOINT
    SEND_EMAIL_LOGIC_APP_URL            = Get-VaultEntry $env:SEND_EMAIL_URL_VAULT_ENTRY
    CREATE_CALENDAR_EVENT_LOGIC_APP_URL = Get-VaultEntry $env:CREATE_CALENDAR_EVENT_URL_VAULT_ENTRY
}
foreach ($entry in $values.GetEnumerator()) {
    if ($entry.Value) { $settings['Values'][$entry.Key] = $entry.Value }
}
$settings | ConvertTo-Json -Depth 10 | Set-Content -Path $target -Encoding utf8
Write-Host 'Wrote local.settings.json: local runs now use Azure OpenAI, the sessions pool and the Logic Apps.'

if (-not $values.SEND_EMAIL_LOGIC_APP_URL) {
    Write-Host "The Logic App URLs were not copied (Azure CLI missing or not signed in): run 'az login' and 'azd hooks run postprovision' to add them."
}

$connection = "https://portal.azure.com/#@$($env:AZURE_TENANT_ID)/resource/subscriptions/$($env:AZURE_SUBSCRIPTION_ID)/resourceGroups/$($env:AZURE_RESOURCE_GROUP)/providers/Microsoft.Web/connections/$($env:OFFICE365_CONNECTION_NAME)/edit"
Write-Host ''
Write-Host 'One manual step: the email and calendar tools send through an Office 365 connection'
Write-Host 'that a person must sign in once. Open'
Write-Host "  $connection"
Write-Host 'choose "Authorize", sign in with the mailbox that should send, then "Save".'
Write-Host ''
Write-Host "API: $($env:API_BASE_URL)"

if (-not $env:AZURE_AUTH_CLIENT_ID) {
    Write-Host 'Warning: App Service Authentication is off, so the API is open to anyone with its URL. See docs/deploy-to-azure.md.'
}
