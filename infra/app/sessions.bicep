// Azure Container Apps dynamic sessions pool: the code interpreter's sandbox in Azure.
// Built-in Python container type (no Container Apps environment needed), egress off
// so code the model writes cannot reach the network.

@description('Session pool name.')
param name string

@description('Region (must offer Container Apps dynamic sessions).')
param location string

@description('Tags for the pool.')
param tags object

@description('Most sessions alive at once (one per thread using the code interpreter).')
param maxConcurrentSessions int = 20

@description('Idle seconds before a session and its files are discarded. One hour, as OpenAI keeps a code interpreter session and as CODE_INTERPRETER_IDLE_SECONDS does for the local sandbox.')
@minValue(300)
@maxValue(3600)
param cooldownPeriodInSeconds int = 3600

resource pool 'Microsoft.App/sessionPools@2024-02-02-preview' = {
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
      executionType: 'Timed'
      cooldownPeriodInSeconds: cooldownPeriodInSeconds
    }
    sessionNetworkConfiguration: {
      status: 'EgressDisabled'
    }
  }
}

output name string = pool.name
output poolManagementEndpoint string = pool.properties.poolManagementEndpoint
