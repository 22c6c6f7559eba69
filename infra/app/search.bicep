// Azure AI Search for file_search's optional backend (FILE_SEARCH_BACKEND=azure_ai_search), for vector
// stores that outgrow ranking inside the function app's instances. Keys are disabled: the app's
// managed identity gets Search Index Data Contributor (read and write chunks) and, for now, Search
// Service Contributor (create the index on first use; see serviceRole). Deployed only when
// main.bicep's fileSearchBackend parameter is 'azure_ai_search'; the app then gets
// FILE_SEARCH_BACKEND and AZURE_SEARCH_ENDPOINT.

@description('Search service name (globally unique, lowercase letters, digits and dashes).')
param name string

@description('Region of the search service.')
param location string

@description('Tags for the service.')
param tags object

@description('Principal id of the function app\'s user-assigned identity.')
param appPrincipalId string

@description('Log Analytics workspace that receives this module\'s resource logs and platform metrics.')
param logAnalyticsWorkspaceId string

@description('SKU: basic and above support vector search; free has no managed identity roles.')
@allowed(['basic', 'standard', 'standard2', 'standard3'])
param skuName string = 'basic'

@description('Replicas: 3 or more give the read-write availability SLA (at three times the cost).')
@minValue(1)
@maxValue(12)
param replicaCount int = 1

var indexDataContributor = '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
var serviceContributor = '7ca78c08-252a-4471-8644-bb5ff32d4ba0'

resource search 'Microsoft.Search/searchServices@2025-05-01' = {
  // checkov:skip=CKV_AZURE_208: one replica by default keeps the optional backend affordable; replicaCount raises it to the SLA's three.
  // checkov:skip=CKV_AZURE_209: one replica by default keeps the optional backend affordable; replicaCount raises it to the SLA's three.
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    replicaCount: replicaCount
    partitionCount: 1
    hostingMode: 'default'
    disableLocalAuth: true
    publicNetworkAccess: 'enabled'
    semanticSearch: 'disabled'
  }
}

// Index Data Contributor: upload, delete and query the chunk documents (file_search's reads and writes).
resource dataRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, appPrincipalId, indexDataContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', indexDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Service Contributor: the app creates its index itself, on first use, sized to the first embeddings it
// stores (core/file_search/azure_search.py, _ensure_index), which needs this control-plane role. It
// goes once the index is created at provision time instead (a postprovision hook step); that is a
// change to the Python code as well, so it is not made here. Scoped to this one service.
resource serviceRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, appPrincipalId, serviceContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Query and indexing operation logs, and the service's latency and throttling metrics.
resource searchDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: search
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

output name string = search.name
// The service's own endpoint property: right in every Azure cloud, unlike a hard-coded DNS suffix.
output endpoint string = search.properties.endpoint
