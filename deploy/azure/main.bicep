// The Co-sell Connectors Assistant on Azure: the container image on App Service (Linux, two or more instances), Azure
// Bot with the Teams channel, Azure Database for PostgreSQL flexible server, Key Vault holding every secret (the Web
// App reads them as Key Vault references with its system-assigned identity), Application Insights.
// Step by step: deploy/README.md. Deploy into a resource group:
//   az deployment group create -g RG -f deploy/azure/main.bicep -p @deploy/azure/main.parameters.json
// tests/deploy/test_bicep_template.py reads this file with a small line reader (no Bicep compiler): keep the app
// settings below in their shape (one `NAME: value` per line; an optional one as `empty(param) ? {} : { NAME: value }`).

targetScope = 'resourceGroup'

// ---------------------------------------------------------------- parameters

@description('Lowercase letters and digits, 3-12 characters: the start of every resource name.')
@minLength(3)
@maxLength(12)
param namePrefix string

@description('Azure region of everything but the bot (global).')
param location string = resourceGroup().location

@description('The image to run, e.g. contoso.azurecr.io/cosell-bot:0.1.0 (built from the repository\'s Dockerfile).')
param containerImage string

@description('An Azure Container Registry in this resource group that holds the image, pulled with the Web App\'s managed identity (AcrPull); empty = a public image.')
param registryName string = ''

@description('App Service plan SKU (Linux); autoscale needs Standard or above.')
param planSkuName string = 'P1v3'

@description('Tier of that SKU.')
param planSkuTier string = 'PremiumV3'

@description('Instances the plan runs (the autoscale minimum). Two or more need the shared PostgreSQL store (COSELL_DATABASE_URL, issue 15 §1): until the app reads it, use 1 (deploy/README.md).')
@minValue(1)
@maxValue(30)
param instanceCount int = 2

@description('Autoscale maximum; greater than instanceCount = CPU-based autoscale between the two, else a fixed instance count.')
@minValue(1)
@maxValue(30)
param maxInstanceCount int = 4

@description('Application (client) id of the bot\'s Microsoft Entra app registration (MicrosoftAppId).')
param botAppId string

@description('Client secret of that app registration (MicrosoftAppPassword); stored in Key Vault only.')
@secure()
param botAppPassword string

@description('SingleTenant (recommended; new multi-tenant bots can no longer be created) or MultiTenant.')
@allowed([
  'SingleTenant'
  'MultiTenant'
])
param botAppType string = 'SingleTenant'

@description('Tenant of the app registration (MicrosoftAppTenantId).')
param botTenantId string = tenant().tenantId

@description('Azure Bot pricing tier: F0 (free, limited premium-channel messages) or S1.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'S1'

@description('Name the bot shows in Azure and Teams.')
param botDisplayName string = 'Co-sell Connectors Assistant'

@description('PostgreSQL administrator login.')
param postgresAdminLogin string = 'cosell'

@description('PostgreSQL administrator password; stored in Key Vault only (also inside the database URL secret).')
@secure()
param postgresAdminPassword string

@description('PostgreSQL compute SKU.')
param postgresSkuName string = 'Standard_B1ms'

@description('Tier of that SKU: Burstable, GeneralPurpose or MemoryOptimized.')
param postgresSkuTier string = 'Burstable'

@description('PostgreSQL major version.')
param postgresVersion string = '16'

@description('PostgreSQL storage in GiB.')
param postgresStorageGb int = 32

@description('Database the assistant uses.')
param databaseName string = 'cosell'

@description('COSELL_TRUSTED_ORIGINS: comma-separated origins (scheme://host) of portals that embed Web Chat.')
param trustedOrigins string = ''

@description('COSELL_ADMIN_ALLOWLIST: comma-separated verified user ids (Teams AAD object ids) allowed to run fixes.')
param adminAllowlist string = ''

@description('COSELL_DEFAULT_LOCALE: reply language when nothing else tells.')
@allowed([
  'en'
  'it'
])
param defaultLocale string = 'en'

@description('COSELL_LIVE_TENANT_ID: Entra tenant of the partner\'s systems (live checks); empty = none.')
param liveTenantId string = ''

@description('COSELL_LIVE_CLIENT_ID: app registration the live checks sign in with; empty = none.')
param liveClientId string = ''

@description('COSELL_SUPPORT_TEAMS_CHANNEL_ID: Teams channel that receives escalated cases (all three or none).')
param supportTeamsChannelId string = ''

@description('COSELL_SUPPORT_TEAMS_SERVICE_URL: that team\'s Bot Connector URL.')
param supportTeamsServiceUrl string = ''

@description('COSELL_SUPPORT_TEAMS_TENANT_ID: that team\'s tenant.')
param supportTeamsTenantId string = ''

// Optional secrets: each one given becomes a Key Vault secret and its app setting a reference to it.
@description('COSELL_DIRECTLINE_SECRET: the Azure Bot\'s Direct Line secret (Web Chat through Azure\'s Direct Line).')
@secure()
param directLineSecret string = ''

@description('COSELL_DIRECTLINE_PORTAL_KEY: key the embedding portal\'s server sends to get tokens for its signed-in users.')
@secure()
param directLinePortalKey string = ''

@description('COSELL_CASE_LINK_SECRET: signs the links to case bundles (32+ characters).')
@secure()
param caseLinkSecret string = ''

@description('COSELL_SUPPORT_WEBHOOK_URL: where escalated cases are posted (it may carry a key in its query).')
@secure()
param supportWebhookUrl string = ''

@description('COSELL_SUPPORT_WEBHOOK_SECRET: HMAC key of the webhook\'s signature (16+ characters; required with the URL).')
@secure()
param supportWebhookSecret string = ''

@description('COSELL_LIVE_CLIENT_SECRET: client secret of the live checks\' app registration (app-only tokens).')
@secure()
param liveClientSecret string = ''

@description('COSELL_LIVE_CACHE_KEY: Fernet key of the encrypted token cache.')
@secure()
param liveCacheKey string = ''

@description('COSELL_ADMIN_REPORT_TOKEN: bearer token (32+ characters) of GET /admin/report, the usage report.')
@secure()
param adminReportToken string = ''

// ---------------------------------------------------------------- names and constants

var suffix = uniqueString(resourceGroup().id, namePrefix)
var appName = '${namePrefix}-${suffix}'
var keyVaultName = 'kv-${suffix}'
var containerPort = '3978'
// built-in role definitions
var keyVaultSecretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6'
var acrPullRole = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

// ---------------------------------------------------------------- monitoring

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-ai-${suffix}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

// ---------------------------------------------------------------- PostgreSQL

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: '${namePrefix}-pg-${suffix}'
  location: location
  sku: {
    name: postgresSkuName
    tier: postgresSkuTier
  }
  properties: {
    version: postgresVersion
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    authConfig: {
      activeDirectoryAuth: 'Disabled'
      passwordAuth: 'Enabled'
    }
    storage: {
      storageSizeGB: postgresStorageGb
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// 0.0.0.0-0.0.0.0 is Azure's rule for "allow public access from any Azure service" (App Service's outbound
// addresses change with scaling); connections still need the password and TLS (sslmode=require)
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

// ---------------------------------------------------------------- Key Vault and its secrets

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'bot-app-password'
  properties: {
    contentType: 'MicrosoftAppPassword'
    value: botAppPassword
  }
}

resource postgresPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'postgres-admin-password'
  properties: {
    contentType: 'PostgreSQL administrator password'
    value: postgresAdminPassword
  }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'database-url'
  properties: {
    contentType: 'COSELL_DATABASE_URL'
    value: 'postgresql://${uriComponent(postgresAdminLogin)}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=require'
  }
}

// the Application Insights connection string: not a credential to Azure, but whoever holds it can write telemetry
// into the resource, and the app keeps it a secret setting (bot/settings.py), so it reaches the app as the others do
resource appInsightsConnectionSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'applicationinsights-connection-string'
  properties: {
    contentType: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
}

// the optional secrets, created only when given (an app setting must never point at a missing secret: App Service
// would pass the reference text itself to the app)
var optionalSecrets = [
  { name: 'directline-secret', setting: 'COSELL_DIRECTLINE_SECRET', value: directLineSecret }
  { name: 'directline-portal-key', setting: 'COSELL_DIRECTLINE_PORTAL_KEY', value: directLinePortalKey }
  { name: 'case-link-secret', setting: 'COSELL_CASE_LINK_SECRET', value: caseLinkSecret }
  { name: 'support-webhook-url', setting: 'COSELL_SUPPORT_WEBHOOK_URL', value: supportWebhookUrl }
  { name: 'support-webhook-secret', setting: 'COSELL_SUPPORT_WEBHOOK_SECRET', value: supportWebhookSecret }
  { name: 'live-client-secret', setting: 'COSELL_LIVE_CLIENT_SECRET', value: liveClientSecret }
  { name: 'live-cache-key', setting: 'COSELL_LIVE_CACHE_KEY', value: liveCacheKey }
  { name: 'admin-report-token', setting: 'COSELL_ADMIN_REPORT_TOKEN', value: adminReportToken }
]

resource optionalSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for secret in optionalSecrets: if (!empty(secret.value)) {
  parent: keyVault
  name: secret.name
  properties: {
    contentType: secret.setting
    value: secret.value
  }
}]

// ---------------------------------------------------------------- App Service

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${namePrefix}-plan-${suffix}'
  location: location
  kind: 'linux'
  sku: {
    name: planSkuName
    tier: planSkuTier
    capacity: instanceCount
  }
  properties: {
    reserved: true // Linux
  }
}

resource autoscale 'Microsoft.Insights/autoscalesettings@2022-10-01' = if (maxInstanceCount > instanceCount) {
  name: '${plan.name}-autoscale'
  location: location
  properties: {
    enabled: true
    targetResourceUri: plan.id
    profiles: [
      {
        name: 'cpu'
        capacity: {
          minimum: string(instanceCount)
          maximum: string(maxInstanceCount)
          default: string(instanceCount)
        }
        rules: [
          {
            metricTrigger: {
              metricName: 'CpuPercentage'
              metricResourceUri: plan.id
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT10M'
              timeAggregation: 'Average'
              operator: 'GreaterThan'
              threshold: 70
            }
            scaleAction: {
              direction: 'Increase'
              type: 'ChangeCount'
              value: '1'
              cooldown: 'PT10M'
            }
          }
          {
            metricTrigger: {
              metricName: 'CpuPercentage'
              metricResourceUri: plan.id
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT20M'
              timeAggregation: 'Average'
              operator: 'LessThan'
              threshold: 30
            }
            scaleAction: {
              direction: 'Decrease'
              type: 'ChangeCount'
              value: '1'
              cooldown: 'PT20M'
            }
          }
        ]
      }
    ]
  }
}

resource webApp 'Microsoft.Web/sites@2023-12-01' = {
  name: appName
  location: location
  kind: 'app,linux,container'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false // ARR affinity off: any instance serves any turn
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      linuxFxVersion: 'DOCKER|${containerImage}'
      acrUseManagedIdentityCreds: !empty(registryName)
      alwaysOn: true
      healthCheckPath: '/readyz' // an instance whose database or knowledge is not ready gets no traffic
      webSocketsEnabled: true // the embedded Direct Line's stream
      http20Enabled: true
      httpLoggingEnabled: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: keyVault
  name: guid(keyVault.id, webApp.id, keyVaultSecretsUserRole)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRole)
    principalId: webApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(registryName)) {
  name: registryName
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(registryName)) {
  scope: registry
  name: guid(resourceGroup().id, registryName, webApp.id, acrPullRole)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRole)
    principalId: webApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- app settings

// Settings the app reads (bot/settings.py, APPLICATIONINSIGHTS_CONNECTION_STRING among them: telemetry, a secret), plus
// two of the platform's: WEBSITES_PORT (the container's port) and WEBSITES_ENABLE_APP_SERVICE_STORAGE (/home, where
// the SQLite fallback lives). COSELL_HOST and COSELL_PORT come from the image.
var plainSettings = {
  MicrosoftAppId: botAppId
  MicrosoftAppType: botAppType
  MicrosoftAppTenantId: botTenantId
  WEBSITES_PORT: containerPort
  WEBSITES_ENABLE_APP_SERVICE_STORAGE: 'true'
  COSELL_DATABASE_PATH: '/home/data/cosell-bot.db'
  COSELL_PUBLIC_URL: 'https://${webApp.properties.defaultHostName}'
  COSELL_FORWARDED_HOPS: '1'
  COSELL_LOG_LEVEL: 'INFO'
  COSELL_DEFAULT_LOCALE: defaultLocale
  COSELL_TRUSTED_ORIGINS: trustedOrigins
  COSELL_ADMIN_ALLOWLIST: adminAllowlist
  COSELL_LIVE_TENANT_ID: liveTenantId
  COSELL_LIVE_CLIENT_ID: liveClientId
  COSELL_SUPPORT_TEAMS_CHANNEL_ID: supportTeamsChannelId
  COSELL_SUPPORT_TEAMS_SERVICE_URL: supportTeamsServiceUrl
  COSELL_SUPPORT_TEAMS_TENANT_ID: supportTeamsTenantId
}

// Secrets: Key Vault references only, versionless (a new secret version is picked up on restart or within 24 hours)
var secretSettings = {
  MicrosoftAppPassword: '@Microsoft.KeyVault(SecretUri=${botPasswordSecret.properties.secretUri})'
  COSELL_DATABASE_URL: '@Microsoft.KeyVault(SecretUri=${databaseUrlSecret.properties.secretUri})'
  APPLICATIONINSIGHTS_CONNECTION_STRING: '@Microsoft.KeyVault(SecretUri=${appInsightsConnectionSecret.properties.secretUri})'
}

var directLineSecretSetting = empty(directLineSecret) ? {} : { COSELL_DIRECTLINE_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/directline-secret)' }
var directLinePortalKeySetting = empty(directLinePortalKey) ? {} : { COSELL_DIRECTLINE_PORTAL_KEY: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/directline-portal-key)' }
var caseLinkSecretSetting = empty(caseLinkSecret) ? {} : { COSELL_CASE_LINK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/case-link-secret)' }
var supportWebhookUrlSetting = empty(supportWebhookUrl) ? {} : { COSELL_SUPPORT_WEBHOOK_URL: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/support-webhook-url)' }
var supportWebhookSecretSetting = empty(supportWebhookSecret) ? {} : { COSELL_SUPPORT_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/support-webhook-secret)' }
var liveClientSecretSetting = empty(liveClientSecret) ? {} : { COSELL_LIVE_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/live-client-secret)' }
var liveCacheKeySetting = empty(liveCacheKey) ? {} : { COSELL_LIVE_CACHE_KEY: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/live-cache-key)' }
var adminReportTokenSetting = empty(adminReportToken) ? {} : { COSELL_ADMIN_REPORT_TOKEN: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/admin-report-token)' }

// A resource of its own, after the role assignment: references resolved before the identity may read the vault would
// stay unresolved until the next restart.
resource appSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: webApp
  name: 'appsettings'
  properties: union(
    plainSettings,
    secretSettings,
    directLineSecretSetting,
    directLinePortalKeySetting,
    caseLinkSecretSetting,
    supportWebhookUrlSetting,
    supportWebhookSecretSetting,
    liveClientSecretSetting,
    liveCacheKeySetting,
    adminReportTokenSetting
  )
  dependsOn: [
    secretsUser
    optionalSecret
    database
    allowAzureServices
  ]
}

// container output (stdout/stderr), HTTP and platform logs to the workspace
resource webAppLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: webApp
  name: 'logs'
  properties: {
    workspaceId: logs.id
    logs: [
      {
        category: 'AppServiceConsoleLogs'
        enabled: true
      }
      {
        category: 'AppServiceHTTPLogs'
        enabled: true
      }
      {
        category: 'AppServicePlatformLogs'
        enabled: true
      }
    ]
  }
}

// ---------------------------------------------------------------- Azure Bot

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${namePrefix}-bot-${suffix}'
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${webApp.properties.defaultHostName}/api/messages'
    msaAppId: botAppId
    msaAppType: botAppType
    msaAppTenantId: botAppType == 'SingleTenant' ? botTenantId : ''
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

// ---------------------------------------------------------------- outputs

output appUrl string = 'https://${webApp.properties.defaultHostName}'
output botEndpoint string = 'https://${webApp.properties.defaultHostName}/api/messages'
output webAppName string = webApp.name
output botName string = bot.name
output keyVaultName string = keyVault.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output appPrincipalId string = webApp.identity.principalId
