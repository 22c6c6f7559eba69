# azd postprovision hook (Windows): the same as postprovision.sh. azd passes its
# environment values (the outputs of infra/main.bicep) as environment variables.
#
# It issues the deployment's first API key into Key Vault (once; never printed) and, with the
# Azure AI Search backend, creates the search index.
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

# --- The first API key ------------------------------------------------------------------------
# Every call to the deployed API needs a key issued by the service. The first one is issued here,
# once, to the principal azd-owner, and kept only in Key Vault (never printed): a rerun finds the
# secret and issues none. The key command reaches the app's storage as you (az login, through
# DefaultAzureCredential), unless AzureWebJobsStorage in the environment names another storage.
$secret = if ($env:API_KEY_VAULT_SECRET) { $env:API_KEY_VAULT_SECRET } else { 'assistants-api-key' }
$readKey = "az keyvault secret show --vault-name $($env:AZURE_KEYVAULT_NAME) --name $secret --query value --output tsv"
$attempts = 8  # role assignments made by this provisioning can take a few minutes to apply
$python = Join-Path $root '.venv/Scripts/python.exe'
if (-not (Test-Path $python)) { $python = 'python' }
$errors = (New-TemporaryFile).FullName

# Runs $action until it succeeds, retrying while Azure still refuses for want of a role assignment.
# Returns its output (stdout), or $null when it failed; its last error text is in $errors.
function Invoke-WithRoleRetries([scriptblock] $action) {
    for ($try = 1; ; $try++) {
        $output = & $action 2> $errors
        if ($LASTEXITCODE -eq 0) { return , $output }
        if ($try -ge $attempts -or ((Get-Content $errors -Raw) -notmatch 'forbidden|authoriz')) { return $null }
        Write-Host "Waiting for this provisioning's role assignments to apply ($try/$attempts)..."
        Start-Sleep -Seconds 15
    }
}

# python -m core.api_keys, run outside the checkout's root so that local.settings.json (which
# points at Azurite) is not read: the environment alone names the storage.
function Invoke-KeyCommand([string[]] $arguments, [string] $storageAccount) {
    $saved = @{ PYTHONPATH = $env:PYTHONPATH; AzureWebJobsStorage__accountName = $env:AzureWebJobsStorage__accountName }
    $env:PYTHONPATH = $root
    $env:AzureWebJobsStorage__accountName = $storageAccount
    Push-Location $PSScriptRoot
    try { & $python -m core.api_keys @arguments } finally {
        Pop-Location
        $env:PYTHONPATH = $saved.PYTHONPATH
        $env:AzureWebJobsStorage__accountName = $saved.AzureWebJobsStorage__accountName
    }
}

function Set-FirstKey {
    if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
        Write-Host "No API key was issued: the Azure CLI is missing. Install it, run 'az login', then 'azd hooks run postprovision'."
        return
    }
    $exists = Invoke-WithRoleRetries { az keyvault secret show --vault-name $env:AZURE_KEYVAULT_NAME --name $secret --query id --output none | Out-Null }
    if ($null -ne $exists) {
        Write-Host "The API key is in Key Vault (secret '$secret'); none issued. Read it with:"
        Write-Host "  $readKey"
        return
    }
    if ((Get-Content $errors -Raw) -notmatch 'SecretNotFound') {
        Write-Host "No API key was issued: Key Vault could not be checked ($((Get-Content $errors | Select-Object -First 1)))."
        Write-Host "Run 'az login', then 'azd hooks run postprovision'."
        return
    }
    $storageAccount = if ($env:AzureWebJobsStorage) { '' } else { $env:AZURE_STORAGE_ACCOUNT_NAME }
    if (-not $env:AzureWebJobsStorage -and -not $storageAccount) {
        Write-Host "No API key was issued: AZURE_STORAGE_ACCOUNT_NAME is not set (run the hook with 'azd hooks run postprovision')."
        return
    }
    $issued = Invoke-WithRoleRetries { Invoke-KeyCommand @('create', '--principal', 'azd-owner', '--name', 'first key (azd up)', '--quiet') $storageAccount }
    if ($null -eq $issued) {
        Write-Host "No API key was issued: the app's storage refused ($((Get-Content $errors | Select-Object -Last 1)))."
        Write-Host "Run 'azd hooks run postprovision' again in a few minutes."
        return
    }
    $key = "$issued".Trim()
    # az reads the key from a file, not from its command line; the file lives only while az runs.
    $file = (New-TemporaryFile).FullName
    try {
        [IO.File]::WriteAllText($file, $key)
        $stored = Invoke-WithRoleRetries { az keyvault secret set --vault-name $env:AZURE_KEYVAULT_NAME --name $secret --file $file --encoding utf-8 --output none }
    } finally {
        Remove-Item $file -ErrorAction SilentlyContinue
    }
    if ($null -eq $stored) {
        $hash = [Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($key))
        $keyId = [Convert]::ToHexString($hash).ToLowerInvariant().Substring(0, 12)
        Invoke-KeyCommand @('revoke', $keyId) $storageAccount *> $null
        Write-Host "No API key was stored: Key Vault refused ($((Get-Content $errors | Select-Object -First 1))); the key issued was revoked."
        Write-Host "Run 'azd hooks run postprovision' again in a few minutes."
        return
    }
    Write-Host "Issued the first API key (principal azd-owner) and stored it in Key Vault as '$secret'. Read it with:"
    Write-Host "  $readKey"
}

# The Azure AI Search index (fileSearchBackend azure_ai_search), as postprovision.sh: created here as
# you (DefaultAzureCredential: az or azd sign-in) from the one schema in core/file_search/azure_search.py,
# with the embeddings deployment's vector size; the app's identity only reads and writes its documents.
function Invoke-IndexCommand {
    $dimensions = if ($env:AZURE_OPENAI_EMBEDDINGS_DIMENSIONS) { $env:AZURE_OPENAI_EMBEDDINGS_DIMENSIONS } else { '1536' }
    Push-Location $root
    try { & $python -m core.file_search.azure_search create-index --endpoint $env:AZURE_SEARCH_ENDPOINT --dimensions $dimensions } finally { Pop-Location }
}

function New-SearchIndex {
    if (-not $env:AZURE_SEARCH_ENDPOINT) { return }  # the local file_search backend: no search service
    $done = Invoke-WithRoleRetries { Invoke-IndexCommand }
    if ($null -eq $done) {
        Write-Host "The search index was not created: $((Get-Content $errors | Select-Object -Last 1))"
        Write-Host "file_search fails until it is: run 'az login' (or 'azd auth login'), then 'azd hooks run postprovision'."
        return
    }
    Write-Host "$done"
}

try { Set-FirstKey; New-SearchIndex } finally { Remove-Item $errors -ErrorAction SilentlyContinue }
if ($env:AZURE_AUTH_CLIENT_ID) {
    Write-Host "Access: App Service Authentication is on, so every call needs an Entra ID token for app $($env:AZURE_AUTH_CLIENT_ID);"
    Write-Host 'the platform refuses other calls, API keys included. See docs/deploy-to-azure.md.'
} else {
    Write-Host "Access: every call needs an API key (api-key or Authorization: Bearer); issue more with 'python -m core.api_keys create'. See docs/deploy-to-azure.md."
}
