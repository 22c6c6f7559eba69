// One HTTP-triggered Logic App (Consumption) that acts through the Office 365
// connection. Its callback URL embeds a SAS signature, so it goes straight into
// Key Vault from here and never appears in an output or a parameter.

@description('Workflow name.')
param name string

@description('Region.')
param location string

@description('Tags for the workflow.')
param tags object

@description('Workflow definition (triggers and actions), in Logic Apps code-view JSON.')
param definition object

@description('Resource id of the Office 365 API connection.')
param connectionId string

@description('Connection name.')
param connectionName string

@description('Resource id of the office365 managed API.')
param connectionApiId string

@description('Vault that receives the callback URL.')
param keyVaultName string

@description('Name of the vault entry that holds the callback URL.')
param urlSecretName string

@description('Log Analytics workspace that receives this module\'s resource logs and platform metrics.')
param logAnalyticsWorkspaceId string

resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    state: 'Enabled'
    definition: definition
    parameters: {
      '$connections': {
        value: {
          office365: {
            connectionId: connectionId
            connectionName: connectionName
            id: connectionApiId
          }
        }
      }
    }
  }
}

// Every definition names its HTTP request trigger 'manual', as the designer does.
resource trigger 'Microsoft.Logic/workflows/triggers@2019-05-01' existing = {
  parent: workflow
  name: 'manual'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource callbackUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41: the callback URL does not expire; an expiry date would silently break the tool. Rotate by regenerating the workflow's access keys and running `azd provision`.
  parent: vault
  name: urlSecretName
  properties: {
    contentType: 'text/plain'
    value: trigger.listCallbackUrl().value
  }
}

// Run, trigger and action events (not their inputs or outputs) and the workflow's metrics.
resource workflowDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workflow
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

output name string = workflow.name
