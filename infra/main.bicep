// Entry point for `azd up`: creates the resource group and wires the modules under
// app/ together. Each module owns one concern; this file only names resources and
// passes values between them. Secrets never pass through here: the Logic App
// callback URLs are written to Key Vault by the module that creates them.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds resource names.')
param environmentName string

// The one list of regions this template deploys to: each offers Flex Consumption, Container
// Apps dynamic sessions and Azure OpenAI (docs/deploy-to-azure.md cites the pages it comes from).
// azd offers only these when it asks for a region, and its usageName check hides those where the
// subscription lacks quota for the default models' capacity.
@minLength(1)
@allowed([
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'norwayeast'
  'southafricanorth'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
    usageName: [
      'OpenAI.GlobalStandard.gpt-4.1-mini,30'
      'OpenAI.GlobalStandard.text-embedding-3-small,30'
    ]
  }
})
@description('Region for every resource: one that offers Flex Consumption, Container Apps dynamic sessions and the Azure OpenAI models.')
param location string

@description('Object id of the person running azd (AZURE_PRINCIPAL_ID). They get the same data roles as the app, to run it locally against these resources. Empty skips this.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principalId: User for a person, ServicePrincipal for a CI pipeline.')
param principalType string = 'User'

@description('Client id of an Entra app registration that protects the API with App Service Authentication. Empty leaves the API anonymous (see docs/deploy-to-azure.md).')
param authClientId string = ''

@description('Durable Functions task hub name.')
param taskHubName string = 'assistantshub'

@description('Chat model the runs use.')
param chatModelName string = 'gpt-4.1-mini'

@description('Version of the chat model.')
param chatModelVersion string = '2025-04-14'

@allowed([
  'GlobalStandard'
  'DataZoneStandard'
  'Standard'
])
@description('Deployment SKU of the chat model: GlobalStandard has the widest availability and quota; DataZoneStandard keeps processing in the US or EU data zone; Standard in the region.')
param chatSkuName string = 'GlobalStandard'

@minValue(1)
@description('Chat capacity in thousands of tokens per minute (subscription quota permitting).')
param chatCapacity int = 30

@description('Embeddings model (file_search).')
param embeddingsModelName string = 'text-embedding-3-small'

@description('Version of the embeddings model.')
param embeddingsModelVersion string = '1'

@minValue(1)
@description('Length of the embeddings model\'s vectors (text-embedding-3-small: 1536): the postprovision hook creates the Azure AI Search index with it (fileSearchBackend azure_ai_search).')
param embeddingsDimensions int = 1536

@allowed([
  'GlobalStandard'
  'DataZoneStandard'
  'Standard'
])
@description('Deployment SKU of the embeddings model.')
param embeddingsSkuName string = 'GlobalStandard'

@minValue(1)
@description('Embeddings capacity in thousands of tokens per minute (subscription quota permitting).')
param embeddingsCapacity int = 30

@description('Azure OpenAI data-plane API version the app calls.')
param openAiApiVersion string = '2024-10-21'

@allowed([
  'azureStorage'
  'durableTaskScheduler'
])
@description('Where Durable Functions keeps run orchestrations: azureStorage (queues and tables in the app\'s storage account, no extra resource) or durableTaskScheduler (the managed Durable Task Scheduler: pushes work instead of polling, more throughput, a dashboard; see docs/deploy-to-azure.md).')
param durableBackend string = 'azureStorage'

@allowed([
  'Consumption'
  'Dedicated'
])
@description('Durable Task Scheduler SKU when durableBackend is durableTaskScheduler: Consumption (pay per action) or Dedicated (reserved capacity units).')
param durableTaskSchedulerSku string = 'Consumption'

@allowed([
  'local'
  'azure_ai_search'
])
@description('Where file_search ranks chunks: local (the app\'s own index over chunks in its storage account, no extra resource) or azure_ai_search (an Azure AI Search service, for vector stores that outgrow it; see docs/deploy-to-azure.md).')
param fileSearchBackend string = 'local'

@allowed([
  ''
  'searxng'
  'brave'
])
@description('Web search engine of the browser tool: empty (not configured: calls say so), searxng (deploys SearXNG as a Container App only the Function App reaches) or brave (Brave Search API; store its key in the Key Vault as the secret web-search-brave-api-key, which the app reads by reference).')
param webSearchBackend string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var useScheduler = durableBackend == 'durableTaskScheduler'
var tags = {
  'azd-env-name': environmentName
}
var deploymentContainerName = 'app-package'
var sendEmailUrlSecretName = 'send-email-url'
var calendarUrlSecretName = 'create-calendar-event-url'
var braveApiKeySecretName = 'web-search-brave-api-key' // stored by the operator: az keyvault secret set

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    deploymentContainerName: deploymentContainerName
  }
}

module openAi 'app/openai.bicep' = {
  name: 'openai'
  scope: rg
  params: {
    name: 'oai-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    chatModelName: chatModelName
    chatModelVersion: chatModelVersion
    chatSkuName: chatSkuName
    chatCapacity: chatCapacity
    embeddingsModelName: embeddingsModelName
    embeddingsModelVersion: embeddingsModelVersion
    embeddingsSkuName: embeddingsSkuName
    embeddingsCapacity: embeddingsCapacity
  }
}

module sessions 'app/sessions.bicep' = {
  name: 'sessions'
  scope: rg
  params: {
    // Session pool names allow lower-case letters and digits only.
    name: 'sp${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module office365 'app/office365-connection.bicep' = {
  name: 'office365'
  scope: rg
  params: {
    name: 'office365-${resourceToken}'
    location: location
    tags: tags
  }
}

module sendEmail 'app/logic-workflow.bicep' = {
  name: 'send-email'
  scope: rg
  params: {
    name: 'logic-send-email-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    definition: loadJsonContent('app/workflows/send-email.json')
    connectionId: office365.outputs.id
    connectionName: office365.outputs.name
    connectionApiId: office365.outputs.apiId
    keyVaultName: keyVault.outputs.name
    urlSecretName: sendEmailUrlSecretName
  }
}

module createCalendarEvent 'app/logic-workflow.bicep' = {
  name: 'create-calendar-event'
  scope: rg
  params: {
    name: 'logic-create-calendar-event-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    definition: loadJsonContent('app/workflows/create-calendar-event.json')
    connectionId: office365.outputs.id
    connectionName: office365.outputs.name
    connectionApiId: office365.outputs.apiId
    keyVaultName: keyVault.outputs.name
    urlSecretName: calendarUrlSecretName
  }
}

module scheduler 'app/scheduler.bicep' = if (useScheduler) {
  name: 'scheduler'
  scope: rg
  params: {
    name: 'dts-${resourceToken}'
    location: location
    tags: tags
    skuName: durableTaskSchedulerSku
    taskHubName: taskHubName
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module appRoles 'app/rbac.bicep' = {
  name: 'app-roles'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    storageAccountName: storage.outputs.name
    openAiName: openAi.outputs.name
    sessionPoolName: sessions.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

module userRoles 'app/rbac.bicep' = if (!empty(principalId)) {
  name: 'user-roles'
  scope: rg
  params: {
    principalId: principalId
    principalType: principalType
    storageAccountName: storage.outputs.name
    openAiName: openAi.outputs.name
    sessionPoolName: sessions.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    writesSecrets: true // the postprovision hook stores the first API key in the vault
  }
}

module search 'app/search.bicep' = if (fileSearchBackend == 'azure_ai_search') {
  name: 'search'
  scope: rg
  params: {
    name: 'srch-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module searxng 'app/searxng.bicep' = if (webSearchBackend == 'searxng') {
  name: 'searxng'
  scope: rg
  params: {
    name: resourceToken
    location: location
    tags: tags
    logAnalyticsWorkspaceName: last(split(monitoring.outputs.workspaceId, '/'))
  }
}

module api 'app/function.bicep' = {
  name: 'api'
  scope: rg
  // The app's Key Vault references and identity-based connections only resolve once
  // the vault entries and role assignments exist.
  dependsOn: [
    sendEmail
    createCalendarEvent
    appRoles
    scheduler
  ]
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    taskHubName: taskHubName
    schedulerEndpoint: useScheduler ? scheduler.outputs.endpoint : ''
    fileSearchBackend: fileSearchBackend
    webSearchBackend: webSearchBackend
    searxngUrl: webSearchBackend == 'searxng' ? searxng.outputs.url : ''
    virtualNetworkSubnetId: webSearchBackend == 'searxng' ? searxng.outputs.functionSubnetId : ''
    searchEndpoint: fileSearchBackend == 'azure_ai_search' ? search.outputs.endpoint : ''
    openAiEndpoint: openAi.outputs.endpoint
    openAiApiVersion: openAiApiVersion
    chatDeploymentName: openAi.outputs.chatDeploymentName
    embeddingsDeploymentName: openAi.outputs.embeddingsDeploymentName
    sessionPoolEndpoint: sessions.outputs.poolManagementEndpoint
    keyVaultName: keyVault.outputs.name
    sendEmailUrlSecretName: sendEmailUrlSecretName
    calendarUrlSecretName: calendarUrlSecretName
    braveApiKeySecretName: braveApiKeySecretName
    appInsightsName: monitoring.outputs.appInsightsName
    authClientId: authClientId
  }
}

// azd stores these in .azure/<env>/.env; the postprovision hook turns them into
// local.settings.json. None of them is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output API_BASE_URL string = 'https://${api.outputs.defaultHostName}/v1'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output DURABLE_TASK_HUB string = taskHubName
output DURABLE_BACKEND string = durableBackend
output AZURE_OPENAI_ENDPOINT string = openAi.outputs.endpoint
output AZURE_OPENAI_API_VERSION string = openAiApiVersion
output AZURE_OPENAI_CHAT_DEPLOYMENT string = openAi.outputs.chatDeploymentName
output AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT string = openAi.outputs.embeddingsDeploymentName
// The postprovision hook creates the search index from these (an empty endpoint: no search service).
output AZURE_OPENAI_EMBEDDINGS_DIMENSIONS int = embeddingsDimensions
output AZURE_SEARCH_ENDPOINT string = fileSearchBackend == 'azure_ai_search' ? search.outputs.endpoint : ''
output ACA_SESSION_POOL_ENDPOINT string = sessions.outputs.poolManagementEndpoint
output AZURE_KEYVAULT_NAME string = keyVault.outputs.name
output SEND_EMAIL_URL_VAULT_ENTRY string = sendEmailUrlSecretName
output CREATE_CALENDAR_EVENT_URL_VAULT_ENTRY string = calendarUrlSecretName
output OFFICE365_CONNECTION_NAME string = office365.outputs.name
