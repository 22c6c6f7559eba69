// The Office 365 Outlook API connection both Logic Apps send through. ARM can create
// it but not sign it in: a person authorizes it once in the portal (postprovision
// prints the link), after which the workflows send as that person's mailbox.

@description('Connection name.')
param name string

@description('Region (managed API connections live next to their workflows).')
param location string

@description('Tags for the connection.')
param tags object

var office365ApiId = subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'office365')

resource connection 'Microsoft.Web/connections@2016-06-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    displayName: 'Office 365 Outlook for Assistants API in-a-Box'
    api: {
      id: office365ApiId
    }
  }
}

output id string = connection.id
output name string = connection.name
output apiId string = office365ApiId
