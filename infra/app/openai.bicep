// Azure OpenAI account with one chat deployment (runs) and one embeddings
// deployment (file_search). Keys are disabled: callers use Entra ID.
// Deployment names equal the model names, so an assistant's `model` reads naturally.

@description('Account name; also its custom subdomain.')
param name string

@description('Region (must offer both models with the chosen SKUs).')
param location string

@description('Tags for the account.')
param tags object

@description('Chat model, e.g. gpt-4.1-mini.')
param chatModelName string

@description('Chat model version.')
param chatModelVersion string

@description('Chat deployment SKU (GlobalStandard, DataZoneStandard or Standard).')
param chatSkuName string

@description('Chat capacity in thousands of tokens per minute.')
param chatCapacity int

@description('Embeddings model, e.g. text-embedding-3-small.')
param embeddingsModelName string

@description('Embeddings model version.')
param embeddingsModelVersion string

@description('Embeddings deployment SKU.')
param embeddingsSkuName string

@description('Embeddings capacity in thousands of tokens per minute.')
param embeddingsCapacity int

@description('Log Analytics workspace that receives this module\'s resource logs and platform metrics.')
param logAnalyticsWorkspaceId string

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  // checkov:skip=CKV_AZURE_134: no VNet in the default deployment; Flex Consumption calls the model over the public endpoint. Local auth is disabled, so only Entra principals with the OpenAI User role get in.
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  identity: {
    type: 'SystemAssigned'
  }
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
    }
  }
}

resource chat 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: chatModelName
  sku: {
    name: chatSkuName
    capacity: chatCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: chatModelName
      version: chatModelVersion
    }
  }
}

// Deployments on one account must be created one at a time.
resource embeddings 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: embeddingsModelName
  dependsOn: [
    chat
  ]
  sku: {
    name: embeddingsSkuName
    capacity: embeddingsCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: embeddingsModelName
      version: embeddingsModelVersion
    }
  }
}

// Audit, request (metadata, not prompts or completions) and usage logs, and token and latency metrics.
resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = account.name
output endpoint string = account.properties.endpoint
output chatDeploymentName string = chat.name
output embeddingsDeploymentName string = embeddings.name
