// The one user-assigned identity the Function App uses for every Azure call
// (storage, Azure OpenAI, sessions pool, Key Vault references, telemetry).
// User-assigned so role assignments can exist before the app does.

@description('Identity name.')
param name string

@description('Region.')
param location string

@description('Tags for the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
