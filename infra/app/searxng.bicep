// SearXNG for the web search tool (WEB_SEARCH_BACKEND 'searxng'), reachable only by the Function App:
// a virtual network of two subnets — one delegated to the Function App's outbound integration, one to
// an internal Container Apps environment — and SearXNG in that environment with internal ingress.
// A private DNS zone resolves the environment's domain inside the network.

@description('Name prefix of the network, the environment and the app.')
param name string

@description('Region.')
param location string

@description('Tags for the resources.')
param tags object

@description('Log Analytics workspace that receives the environment\'s logs.')
param logAnalyticsWorkspaceName string

@description('SearXNG container image (its JSON format is enabled by the SEARXNG_* environment below).')
param image string = 'docker.io/searxng/searxng:latest'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource network 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-${name}'
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.40.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'function-app'
        properties: {
          addressPrefix: '10.40.0.0/24'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'container-apps'
        properties: {
          addressPrefix: '10.40.2.0/23'
          delegations: [
            {
              name: 'container-apps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${name}'
  location: location
  tags: tags
  properties: {
    vnetConfiguration: {
      internal: true
      infrastructureSubnetId: network.properties.subnets[1].id
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
  }
}

resource searxng 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'ca-searxng-${take(name, 20)}'
  location: location
  tags: tags
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      ingress: {
        external: false // inside the environment's network only: the Function App, through its integration
        targetPort: 8080
        transport: 'http'
        allowInsecure: true // plain HTTP inside the private network; nothing outside can reach it
      }
    }
    template: {
      containers: [
        {
          name: 'searxng'
          image: image
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            {
              name: 'SEARXNG_SECRET'
              value: uniqueString(resourceGroup().id, name, 'searxng')
            }
            {
              name: 'SEARXNG_SEARCH_FORMATS' // html plus the JSON API the app calls
              value: 'html json'
            }
            {
              name: 'SEARXNG_LIMITER'
              value: 'false'
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 2
      }
    }
  }
}

resource dnsZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: environment.properties.defaultDomain
  location: 'global'
  tags: tags
}

resource dnsRecord 'Microsoft.Network/privateDnsZones/A@2024-06-01' = {
  parent: dnsZone
  name: '*'
  properties: {
    ttl: 300
    aRecords: [
      {
        ipv4Address: environment.properties.staticIp
      }
    ]
  }
}

resource dnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: dnsZone
  name: 'vnet-${name}'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: network.id
    }
  }
}

@description('The URL the app searches (WEB_SEARCH_SEARXNG_URL).')
output url string = 'https://${searxng.properties.configuration.ingress.fqdn}'

@description('Subnet the Function App integrates with to reach it.')
output functionSubnetId string = network.properties.subnets[0].id
