// Azure AI Search for file_search's optional backend (FILE_SEARCH_BACKEND=azure_ai_search), for vector
// stores that outgrow ranking inside the function app's instances. Keys are disabled: the app's
// managed identity gets Search Index Data Contributor alone (read and write chunks; it never creates
// or changes the index). The index is created at provision time by the postprovision hook, as the
// deploying user, from the schema in core/file_search/azure_search.py (see deployerRole). Deployed
// only when main.bicep's fileSearchBackend parameter is 'azure_ai_search'; the app then gets
// FILE_SEARCH_BACKEND and AZURE_SEARCH_ENDPOINT.

@description('Search service name (globally unique, lowercase letters, digits and dashes).')
param name string

@description('Region of the search service.')
param location string

@description('Tags for the service.')
param tags object

@description('Principal id of the function app\'s user-assigned identity.')
param appPrincipalId string

@description('Object id of the deploying user (or pipeline principal) whose postprovision hook creates the index; empty: none.')
param userPrincipalId string

@description('Kind of userPrincipalId.')
param userPrincipalType string

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

// Service Contributor, for the deploying user only: the postprovision hook creates the chunk index
// (python -m core.file_search.azure_search create-index) with the embeddings deployment's vector size.
// An Owner of the subscription could already; the assignment makes the hook work for any principal
// allowed to deploy. The app's identity does not get it: it only uses the index. Scoped to this service.
resource deployerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(search.id, userPrincipalId, serviceContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
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
