// Azure Container Apps dynamic sessions pool: the code interpreter's sandbox in Azure.
// Built-in Python container type (no Container Apps environment needed), egress off
// so code the model writes cannot reach the network.

@description('Session pool name (lower-case letters and digits, starting with a letter).')
param name string

@description('Region (must offer Container Apps dynamic sessions).')
param location string

@description('Tags for the pool.')
param tags object

@description('Log Analytics workspace that receives this module\'s resource logs and platform metrics.')
param logAnalyticsWorkspaceId string

@description('Most sessions alive at once (one per thread using the code interpreter).')
param maxConcurrentSessions int = 20

@description('Idle seconds before a session and its files are discarded (the service allows 300-3600). One hour, as OpenAI keeps a code interpreter session and as CODE_INTERPRETER_IDLE_SECONDS does for the local sandbox.')
@minValue(300)
@maxValue(3600)
param cooldownPeriodInSeconds int = 3600

// 2025-07-01 is a GA version; since 2025-01-01 the idle timeout lives in lifecycleConfiguration.
resource pool 'Microsoft.App/sessionPools@2025-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    poolManagementType: 'Dynamic'
    containerType: 'PythonLTS'
    scaleConfiguration: {
      maxConcurrentSessions: maxConcurrentSessions
    }
    dynamicPoolConfiguration: {
      lifecycleConfiguration: {
        lifecycleType: 'Timed'
        cooldownPeriodInSeconds: cooldownPeriodInSeconds
      }
    }
    sessionNetworkConfiguration: {
      status: 'EgressDisabled'
    }
  }
}

// Session pools have platform metrics (sessions ready, creating, executing) that a diagnostic
// setting can export, but Azure Monitor documents no resource log categories for
// Microsoft.App/sessionPools, so this setting sends metrics only.
resource poolDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: pool
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = pool.name
output poolManagementEndpoint string = pool.properties.poolManagementEndpoint
