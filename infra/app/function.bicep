// The Function App on Flex Consumption (Linux, Python 3.11) and everything it reads
// at run time. Every connection is identity-based through the one user-assigned
// identity; the only secrets are Key Vault references, resolved by the platform.

@description('Function App name; the API is served at https://<name>.azurewebsites.net/v1.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Region.')
param location string

@description('Tags for the plan and the app.')
param tags object

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Storage account for the host, Durable Functions and app data.')
param storageAccountName string

@description('Blob endpoint of that account, ending in a slash.')
param storageBlobEndpoint string

@description('Container that holds the deployment package.')
param deploymentContainerName string

@description('Durable Functions task hub (host.json reads DURABLE_TASK_HUB).')
param taskHubName string

@description('Durable Task Scheduler endpoint; empty keeps Durable Functions on the storage account (azureStorage backend).')
param schedulerEndpoint string

@description('Azure OpenAI endpoint.')
param openAiEndpoint string

@description('Azure OpenAI data-plane API version.')
param openAiApiVersion string

@description('Chat deployment name.')
param chatDeploymentName string

@description('Embeddings deployment name.')
param embeddingsDeploymentName string

@description('Management endpoint of the code interpreter sessions pool.')
param sessionPoolEndpoint string

@description('Vault holding the Logic App callback URLs.')
param keyVaultName string

@description('Vault entry with the send-email callback URL.')
param sendEmailUrlSecretName string

@description('Vault entry with the create-calendar-event callback URL.')
param calendarUrlSecretName string

@description('Key Vault secret holding the Brave Search API key (stored by the operator; read only when webSearchBackend is brave).')
param braveApiKeySecretName string

@description('Application Insights component name.')
param appInsightsName string

@description('file_search backend: local, or azure_ai_search (then searchEndpoint names the service).')
param fileSearchBackend string

@description('Azure AI Search endpoint; empty with the local file_search backend.')
param searchEndpoint string

@description('Web search engine of the browser tool (WEB_SEARCH_BACKEND): empty, searxng or brave.')
param webSearchBackend string

@description('URL of the SearXNG Container App (WEB_SEARCH_SEARXNG_URL); empty unless webSearchBackend is searxng.')
param searxngUrl string

@description('Subnet for outbound virtual network integration (to reach SearXNG); empty: none.')
param virtualNetworkSubnetId string = ''

@description('Client id of the Entra app registration that protects the API; empty leaves the API anonymous.')
param authClientId string

@description('Log Analytics workspace that receives this module\'s resource logs and platform metrics.')
param logAnalyticsWorkspaceId string

@description('Most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([
  512
  2048
  4096
])
@description('Memory per instance (MB).')
param instanceMemoryMB int = 2048

var useScheduler = !empty(schedulerEndpoint)

// Names mirror core/settings.py; tests/test_infra.py keeps the two in step.
var appSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AZURE_CLIENT_ID: identityClientId
  DURABLE_TASK_HUB: taskHubName
  // One deploy package for both Durable backends: these override host.json's storageProvider
  // (AzureFunctionsJobHost__<path> is the host's documented override of a host.json value).
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: useScheduler ? 'azureManaged' : 'AzureStorage'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: useScheduler ? 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' : 'AzureWebJobsStorage'
  // Identity-based: an endpoint and the identity's client id, no key.
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: useScheduler ? 'Endpoint=${schedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}' : ''
  AZURE_OPENAI_ENDPOINT: openAiEndpoint
  AZURE_OPENAI_API_VERSION: openAiApiVersion
  AZURE_OPENAI_CHAT_DEPLOYMENT: chatDeploymentName
  AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT: embeddingsDeploymentName
  FILE_SEARCH_BACKEND: fileSearchBackend
  AZURE_SEARCH_ENDPOINT: searchEndpoint
  WEB_SEARCH_BACKEND: webSearchBackend
  WEB_SEARCH_SEARXNG_URL: searxngUrl
  WEB_SEARCH_BRAVE_API_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${braveApiKeySecretName})'
  CODE_INTERPRETER_SANDBOX: 'aca'
  ACA_SESSION_POOL_ENDPOINT: sessionPoolEndpoint
  SEND_EMAIL_LOGIC_APP_URL: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${sendEmailUrlSecretName})'
  CREATE_CALENDAR_EVENT_LOGIC_APP_URL: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${calendarUrlSecretName})'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  PYTHON_ENABLE_INIT_INDEXING: '1'
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '537919488'
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone-redundant Flex Consumption plans exist only in some regions; the default deployment must work in any region that offers Flex Consumption.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: the app is a public HTTP API; callers are authenticated by App Service Authentication (authClientId), not by network location.
  // checkov:skip=CKV_AZURE_17: callers present Entra bearer tokens; client certificates would break the openai SDK that clients use.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero by design; always-ready instances are a cost choice left to the operator.
  // checkov:skip=CKV_AZURE_213: Flex Consumption does not support App Service health check; the platform replaces unhealthy instances itself.
  name: name
  location: location
  // azd finds the deployment target of service 'api' by this tag.
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex Consumption takes the language here; FUNCTIONS_WORKER_RUNTIME must not be an app setting.
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// No basic (user name and password) publishing: FTP and the SCM site accept only Entra ID.
// azd deploys the package to the blob container above with Entra credentials, so it needs neither.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service Authentication validates Entra tokens before any function runs and sets
// X-MS-CLIENT-PRINCIPAL-ID, which the API uses as the resource owner; callers cannot
// forge that header while it is on. Declared unconditionally so that clearing
// authClientId really turns it off again.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov treats every sites/config resource as a web app's siteConfig; these checks are about the site, not about authsettingsV2:
  // checkov:skip=CKV_AZURE_13: this resource is the authentication setting itself (authsettingsV2 has no top-level 'enabled').
  // checkov:skip=CKV_AZURE_63: HTTP logging is a siteConfig property, not an authsettingsV2 one; the app logs to Application Insights.
  // checkov:skip=CKV_AZURE_65: detailed error pages are a siteConfig property, not an authsettingsV2 one.
  // checkov:skip=CKV_AZURE_66: failed request tracing is a siteConfig property, not an authsettingsV2 one.
  // checkov:skip=CKV_AZURE_80: .NET Framework version does not apply to a Python app nor to authsettingsV2.
  // checkov:skip=CKV_AZURE_88: Azure Files does not apply to authsettingsV2; Flex Consumption stores the package in blob storage.
  // checkov:skip=CKV_AZURE_222: public network access is a site property; see the skip on the site.
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: !empty(authClientId)
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: !empty(authClientId)
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            authClientId
            'api://${authClientId}'
          ]
        }
      }
    }
    httpSettings: {
      requireHttps: true
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

// Functions host and App Service Authentication logs, and the app's metrics. The Flex Consumption
// plan gets no setting of its own: Flex Consumption reports its metrics on the app.
resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
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

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
