// Durable Task Scheduler: the managed Durable Functions backend, deployed only when
// durableBackend is 'durableTaskScheduler'. It pushes work items to the app over gRPC
// instead of the app polling storage queues, and authenticates with Entra ID only: the
// app's identity (and the deploying user, for the dashboard) get Durable Task Data Contributor.
// No diagnostic setting: Azure Monitor documents no resource log or exportable metric categories for
// Microsoft.DurableTask/schedulers; orchestration history is in the scheduler's own dashboard.

@description('Scheduler name (letters, digits and hyphens).')
param name string

@description('Region (must offer Durable Task Scheduler).')
param location string

@description('Tags for the scheduler.')
param tags object

@allowed([
  'Consumption'
  'Dedicated'
])
@description('Consumption bills per orchestration action; Dedicated reserves capacity units.')
param skuName string

@description('Task hub name; equals DURABLE_TASK_HUB, which host.json uses as hubName.')
param taskHubName string

@description('Object id of the Function App\'s identity.')
param appPrincipalId string

@description('Object id of the deploying user (dashboard access); empty skips it.')
param userPrincipalId string

@description('Kind of userPrincipalId.')
param userPrincipalType string

// Durable Task Data Contributor: start, query and process orchestrations, and use the dashboard.
var dataContributor = '0ad04412-c4d5-4796-b79c-f76d14c8d402'

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: skuName == 'Dedicated' ? {
      name: skuName
      capacity: 1
    } : {
      name: skuName
    }
    // An empty list refuses every caller; access is controlled by the role assignments below.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

// Data Contributor for the app: its Durable Functions host starts and runs orchestrations in this scheduler.
resource appAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(scheduler.id, appPrincipalId, dataContributor)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Data Contributor for the deploying user: the scheduler's dashboard, and running the app locally against it.
resource userAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(scheduler.id, userPrincipalId, dataContributor)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
