// Log Analytics + workspace-based Application Insights. Local (instrumentation key)
// ingestion is disabled: telemetry must carry an Entra token, which the app gets
// through APPLICATIONINSIGHTS_AUTHENTICATION_STRING and its managed identity.
// The workspace is also where every other module's diagnostic settings send resource logs
// and platform metrics. Application Insights gets none: being workspace-based, its telemetry
// is already stored in this workspace.

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Application Insights name.')
param appInsightsName string

@description('Region.')
param location string

@description('Tags for both resources.')
param tags object

@description('Days Log Analytics keeps data (30 is included in the price).')
@minValue(30)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

output appInsightsName string = appInsights.name
// Every other module sends its resource logs and metrics here through a diagnostic setting.
output workspaceId string = workspace.id
