// Data-plane roles one principal needs to run the app: the Function App's identity
// always, and the deploying user too when running locally against Azure.
// Every role is scoped to the one resource it is about, never the resource group.

@description('Object id of the principal to authorize.')
param principalId string

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Kind of principal (ServicePrincipal for managed identities).')
param principalType string

param storageAccountName string
param openAiName string
param sessionPoolName string
param keyVaultName string
param appInsightsName string

@description('Whether the principal may also write Key Vault secrets: the deploying user, whose postprovision hook stores the first API key there. The app only reads them.')
param writesSecrets bool = false

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  cognitiveServicesOpenAiUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  containerAppsSessionExecutor: '0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// Durable Functions needs blobs (leases), queues (work items) and tables (history).
var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: openAiName
}

resource sessionPool 'Microsoft.App/sessionPools@2025-07-01' existing = {
  name: sessionPoolName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Blob Data Owner (leases, the deployment package, app data), Queue and Table Data Contributor (task hub work items and history).
resource storageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, principalId, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: principalId
    principalType: principalType
  }
}]

// OpenAI User: call the chat and embeddings deployments; no keys, no management of the account.
resource openAiAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(openAi.id, principalId, roles.cognitiveServicesOpenAiUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAiUser)
    principalId: principalId
    principalType: principalType
  }
}

// Session Executor: run code and move files in the pool's sessions through its management endpoint
// (tokens for https://dynamicsessions.io). Microsoft's dynamic sessions usage page names this role on
// the pool as what that API authorizes; an older revision of the code interpreter page asked for
// Contributor on the pool as well, which this template used to grant. The postdeploy smoke test runs
// code in the pool, so a 401 from it after `azd up` would show if a region still wants both.
resource sessionsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(sessionPool.id, principalId, roles.containerAppsSessionExecutor)
  scope: sessionPool
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.containerAppsSessionExecutor)
    principalId: principalId
    principalType: principalType
  }
}

// Secrets User: resolve the Key Vault references (Logic App callback URLs) in the app settings.
resource vaultAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: principalType
  }
}

// Secrets Officer (read and write secrets, not keys or certificates) lets azd's postprovision hook
// store the first API key in this vault; scoped to the vault, for the deploying user only.
resource vaultWriteAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (writesSecrets) {
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: principalType
  }
}

// Application Insights with local auth disabled accepts telemetry only from this role.
resource telemetryAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: principalType
  }
}
