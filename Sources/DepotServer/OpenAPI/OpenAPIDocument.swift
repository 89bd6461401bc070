// The OpenAPI 3.1 document of the admin and Vault APIs, served at /openapi.json. Kept as YAML
// for people to read and edit; a test checks it against the routes the server answers.
// swift-format-ignore-file

extension OpenAPI {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: Depot
  version: "0.1.0"
  summary: Storage gateway for video-surveillance recordings.
  description: |
    Depot speaks three APIs on one port. The **S3 API** (at `/`) is Amazon S3's, documented by
    AWS (see externalDocs). The **Kerberos Vault API** (under `/api`) is what Kerberos Agents and
    their consumers use. The **admin API** (under `/admin/v1`) manages tiers, policies, accounts,
    replication and events; sign its requests with AWS Signature Version 4 (service `s3`) using
    the keys of an account with the `admin` action, as for S3.
  license: { name: Proprietary }
externalDocs:
  description: The S3 API (Amazon S3 REST API reference)
  url: https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html
servers:
  - url: /
tags:
  - { name: vault, description: "Kerberos Vault API: uploads from Kerberos Agents, signed links, devices." }
  - { name: tus, description: "Resumable uploads (tus 1.0.0) of the Vault API." }
  - { name: admin-server, description: "Server status, configuration in effect, reload." }
  - { name: admin-tiers, description: "Replication targets." }
  - { name: admin-policies, description: "What replicates, transitions and expires." }
  - { name: admin-accounts, description: "Accounts and their permissions." }
  - { name: admin-buckets, description: "Usage and object status." }
  - { name: admin-replication, description: "Backlog, failures, on-demand requests." }
  - { name: admin-events, description: "Event delivery." }
components:
  securitySchemes:
    sigv4:
      type: apiKey
      in: header
      name: Authorization
      description: "AWS Signature Version 4 (`AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/s3/aws4_request, …`), with x-amz-date and x-amz-content-sha256."
    vaultKeys:
      type: apiKey
      in: header
      name: X-Kerberos-Storage-AccessKey
      description: "With X-Kerberos-Storage-SecretAccessKey: a Vault account's keys."
  parameters:
    name: { name: name, in: path, required: true, schema: { type: string }, example: cloud }
    accessKey: { name: accessKey, in: path, required: true, schema: { type: string }, example: DPT0123456789ABCDEF }
    bucket: { name: bucket, in: path, required: true, schema: { type: string }, example: recordings }
    key: { name: key, in: path, required: true, schema: { type: string }, description: "The object key (may contain slashes).", example: front-door/1700000000_clip.mp4 }
    id: { name: id, in: path, required: true, schema: { type: string } }
    limit: { name: limit, in: query, required: false, schema: { type: integer, default: 100 } }
    pageLimit: { name: limit, in: query, required: false, description: "At most this many items (a page).", schema: { type: integer, minimum: 1, maximum: 1000, default: 1000 } }
    after: { name: after, in: query, required: false, description: "The `next` token of the page before: the page starts after it.", schema: { type: string } }
    namePrefix: { name: prefix, in: query, required: false, description: "Only items whose name starts with this.", schema: { type: string } }
    sourceFilter: { name: source, in: query, required: false, description: "Only items from this source (config, api, s3-lifecycle, …).", schema: { type: string } }
    vaultAccessKey: { name: X-Kerberos-Storage-AccessKey, in: header, required: true, schema: { type: string } }
    vaultSecretKey: { name: X-Kerberos-Storage-SecretAccessKey, in: header, required: true, schema: { type: string } }
    vaultFileName: { name: X-Kerberos-Storage-FileName, in: header, required: true, schema: { type: string }, example: 1700000000_6-967003_front-door_200-200-400-400_24_769.mp4 }
    vaultDirectory: { name: X-Kerberos-Storage-Directory, in: header, required: false, schema: { type: string }, example: cam7, description: "Ignored when the account has a fixed directory: uploads go there" }
    vaultProvider: { name: X-Kerberos-Storage-Provider, in: header, required: false, schema: { type: string }, example: edge, description: "One of the account's vault.providers (empty: its default); another name is refused with 400 storage_provider_not_found" }
    tusResumable: { name: Tus-Resumable, in: header, required: false, schema: { type: string, const: "1.0.0" } }
  responses:
    Error:
      description: Refused; `field` names the input at fault when there is one.
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
          example: { error: "must be s3, filesystem, gcs, azure or vault, got \"tape\"", field: type }
    VaultError:
      description: 'Refused (Vault API errors are `{"data": message}` with the status).'
      content:
        application/json:
          schema: { $ref: "#/components/schemas/VaultMessage" }
    Object:
      description: A JSON object.
      content:
        application/json:
          schema: { type: object }
  schemas:
    Error:
      type: object
      properties: { error: { type: string }, field: { type: string } }
      required: [error]
    VaultMessage:
      type: object
      properties: { data: {} }
    Sink:
      type: object
      description: "Where events go; the fields of an `events.sinks[]` entry of the configuration file (webhook url, secret, headers; sqs queueUrl or queueName, endpoint, region, accessKey, secretKey; kafka brokers, topic, sasl, tls, caFile; rabbitmq url, exchange, routingKey, caFile)."
      properties:
        name: { type: string }
        type: { type: string, enum: [webhook, sqs, kafka, rabbitmq] }
        format: { type: string, enum: [s3, kerberos] }
        timeout: { type: [integer, string] }
        match: { type: object, properties: { bucket: { type: string }, prefix: { type: string }, account: { type: string }, events: { type: array, items: { type: string } } } }
        url: { type: string }
        secret: { type: string }
      required: [type]
      example: { name: hook, type: webhook, url: "https://hooks.example.com/depot", secret: signing-secret, match: { bucket: recordings, events: [created] } }
    Tier:
      type: object
      description: A replication target; the fields of a `tiers[]` entry of the configuration file.
      properties:
        name: { type: string }
        type: { type: string, enum: [s3, gcs, azure, filesystem, vault] }
        prefix: { type: string }
        includeBucket: { type: boolean }
        concurrency: { type: integer, minimum: 1, maximum: 64 }
        maxAttempts: { type: integer }
        failingAfter: { type: [integer, string], description: "How long the tier may fail without one success before it counts as failing (depot_tier_failing 1, one warning log line), e.g. 5m (the default). Shown as failingAfterSeconds." }
        bandwidth: { type: [integer, string], description: "Bytes per second over all copies, e.g. 2MB." }
        window: { type: string, description: "Local-time windows such as 22:00-06:00." }
        storageClass: { type: string, example: GLACIER_IR, description: "The S3 storage class this tier is (upper-case, not STANDARD, one tier per class): x-amz-storage-class and lifecycle Transitions naming it send objects here." }
        endpoint: { type: string }
        region: { type: string }
        bucket: { type: string }
        accessKey: { type: string }
        secretKey: { type: string, description: "Shown as ******** in replies; any secret sent back as ******** keeps the stored one." }
        objectLock: { type: boolean, description: "s3: the bucket has Object Lock; copies of locked versions keep their retention and legal hold." }
        path: { type: string }
        credentials: { type: string, description: "gcs: a service account's JSON key (its text). Shown as ******** in replies." }
        credentialsFile: { type: string }
        account: { type: string }
        container: { type: string }
        accountKey: { type: string, description: "azure: Shown as ******** in replies." }
        sas: { type: string, description: "azure: Shown as ******** in replies." }
        provider: { type: string, description: "vault: the remote Vault's storage provider (X-Kerberos-Storage-Provider)." }
        chunkSize: { type: [integer, string], description: "gcs: the resumable chunk; vault: the tus PATCH size, 1MiB to 1GiB (default 8MiB)." }
        source: { type: string, enum: [config, api, "api (overrides config)"], readOnly: true }
      required: [type]
      example: { type: s3, endpoint: "https://s3.eu-west-1.amazonaws.com", region: eu-west-1, bucket: archive, accessKey: AKIA..., secretKey: "...", prefix: site-a/, concurrency: 4 }
    Policy:
      type: object
      description: The fields of a `policies[]` entry of the configuration file.
      properties:
        name: { type: string }
        match:
          type: object
          properties:
            bucket: { type: string }
            prefix: { type: string }
            key: { type: string, description: "Key pattern: * within a segment, ** across, ?, [a-z]." }
            account: { type: string }
            metadata: { type: object, additionalProperties: { type: string } }
            tags: { type: object, additionalProperties: { type: string } }
            minSize: { type: [integer, string] }
            maxSize: { type: [integer, string] }
            yieldsTo: { type: array, items: { type: string }, readOnly: true, description: "S3 replication: the higher-priority rules to the same tier that decide for the objects they match." }
        replicate:
          type: object
          properties:
            to: { type: array, items: { type: string } }
            mode: { type: string, enum: [continuous, on-demand] }
            deletes: { type: boolean }
            deleteMarkersOnly: { type: boolean, readOnly: true, description: "S3 replication DeleteMarkerReplication: a delete marker removes the tier's copy, a DELETE naming a version does not." }
            versions: { type: string, enum: [all, current], default: all, description: "Versioned buckets: all also copies every version to .depot-versions/<version id>/<key>; current keeps only the current version at its plain key." }
        transition: { type: object, properties: { after: { type: string, example: 7d }, at: { type: string, readOnly: true, description: "S3 lifecycle Transition/Date: every matching object moves then." } } }
        lock: { type: object, description: 'Object Lock retention given at commit to new matching versions whose request named none (before the bucket default); only in buckets with Object Lock', properties: { mode: { type: string, enum: [GOVERNANCE, COMPLIANCE] }, days: { type: integer }, years: { type: integer } } }
        expire: { type: object, properties: { after: { type: string, example: 30d }, where: { type: string, enum: [local, tiers, everywhere] }, at: { type: string, readOnly: true, description: "S3 lifecycle Expiration/Date: every matching object expires then." }, roundedTo: { type: string, readOnly: true, description: "S3 lifecycle days count to the next midnight UTC." } } }
        abortIncompleteUploads: { type: object, readOnly: true, description: "S3 lifecycle AbortIncompleteMultipartUpload.", properties: { after: { type: string } } }
        lifecycle: { type: object, readOnly: true, description: "Made from an enabled rule of the bucket's S3 lifecycle configuration (source s3-lifecycle): changed only through PutBucketLifecycleConfiguration, refused here.", properties: { bucket: { type: string }, rule: { type: string }, readOnly: { type: boolean } } }
        replication: { type: object, readOnly: true, description: "Made from an enabled rule of the bucket's S3 replication configuration (source s3-replication): changed only through PutBucketReplication, refused here.", properties: { bucket: { type: string }, rule: { type: string }, readOnly: { type: boolean } } }
        source: { type: string, readOnly: true, description: "config, api, api (overrides config), s3-lifecycle or s3-replication." }
      example: { name: front-door, match: { bucket: recordings, key: "front-*/**/*.mp4" }, replicate: { to: [cloud] }, transition: { after: 7d } }
    Grant:
      type: object
      properties:
        bucket: { type: string }
        prefix: { type: string }
        actions: { type: array, items: { type: string, enum: [read, write, delete, list, admin] } }
    Account:
      type: object
      properties:
        name: { type: string }
        accessKey: { type: string }
        secretKey: { type: string, description: "Only in the reply to its creation." }
        enabled: { type: boolean }
        allow: { type: array, items: { $ref: "#/components/schemas/Grant" } }
        vault: { type: object, properties: { directory: { type: string }, bucket: { type: string }, retentionDays: { type: integer }, enabled: { type: boolean }, retention: { type: object, description: 'Object Lock retention of every recording uploaded through the Vault API; the bucket must have Object Lock', properties: { mode: { type: string, enum: [GOVERNANCE, COMPLIANCE] }, days: { type: integer }, years: { type: integer } } } } }
        quota: { type: [object, "null"], description: "The most its objects may hold; past it uploads get 403 QuotaExceeded. null in a PATCH removes it.", properties: { bytes: { type: [integer, string], description: "Logical bytes, e.g. 50GiB." }, objects: { type: integer } } }
        usage: { type: object, readOnly: true, description: "What it owns now: the sizes and number of the objects stored with its access key, and the stored parts of its uploads in progress (the byte quota holds both).", properties: { bytes: { type: integer }, objects: { type: integer }, uploadingBytes: { type: integer } } }
        source: { type: string, readOnly: true }
      example: { name: cam-7, allow: [{ bucket: recordings, prefix: cam7/, actions: [read, write] }], vault: { directory: cam7, bucket: recordings } }
    ReplicationRequest:
      type: object
      required: [bucket, tier]
      properties:
        bucket: { type: string }
        tier: { type: string }
        keys: { type: array, items: { type: string } }
        prefix: { type: string }
        since: { type: integer, description: "ms since the epoch" }
        until: { type: integer, description: "ms since the epoch" }
        policy: { type: string, description: "Backfill: every stored object the policy matches." }
      example: { bucket: recordings, tier: cloud, prefix: "front-door/", since: 1700000000000 }
security:
  - sigv4: []
paths:
  /admin/v1/status:
    get: { tags: [admin-server], operationId: getStatus, summary: "Version, uptime, each public bucket (publicBuckets: name and what makes it public), and per tier (tiers): backlog, oldestPendingAgeSeconds (since the oldest task was first queued), bytesPerSecond, breaker (closed, open, half-open) with consecutiveFailures and nextProbeInSeconds, failing, failingForSeconds, failingAfterSeconds, lastError { message, time, ageSeconds } and lastSuccess", responses: { "200": { $ref: "#/components/responses/Object" }, "403": { $ref: "#/components/responses/Error" } } }
  /admin/v1/cluster:
    get: { tags: [admin-server], operationId: getCluster, summary: "Cluster mode: each registered node (name, version, address, startedAt, heartbeatAt, heartbeatAgeSeconds, state up or down, downSince for a down node: its last heartbeat, inFlight: uploads in progress at its last heartbeat) and for the cluster up, down and inFlight, read from the cluster index at the call; 503 while it cannot be reached. Embedded mode answers 200 with mode embedded and no nodes", responses: { "200": { $ref: "#/components/responses/Object" }, "503": { $ref: "#/components/responses/Error" } } }
  /admin/v1/server:
    get: { tags: [admin-server], operationId: getServer, summary: "Version, uptime and the configuration in effect (secrets masked)", responses: { "200": { $ref: "#/components/responses/Object" } } }
  /admin/v1/server/reload:
    post: { tags: [admin-server], operationId: reloadServer, summary: "Read the configuration file again (as SIGHUP does)", responses: { "200": { $ref: "#/components/responses/Object" }, "400": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } } }
  /admin/v1/tiers:
    get: { tags: [admin-tiers], operationId: listTiers, summary: "List tiers, a page at a time (`truncated`, and `next` for `after` when more follow)", parameters: [{ $ref: "#/components/parameters/pageLimit" }, { $ref: "#/components/parameters/after" }, { $ref: "#/components/parameters/namePrefix" }, { $ref: "#/components/parameters/sourceFilter" }, { name: type, in: query, required: false, description: "Only tiers of this type.", schema: { type: string } }], responses: { "200": { description: Tiers, content: { application/json: { schema: { type: object, properties: { tiers: { type: array, items: { $ref: "#/components/schemas/Tier" } } } } } } } } }
    post:
      tags: [admin-tiers]
      operationId: createTier
      summary: Create a tier (409 if the name exists)
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Tier" } } } }
      responses: { "201": { description: Created, content: { application/json: { schema: { $ref: "#/components/schemas/Tier" } } } }, "400": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } }
  /admin/v1/tiers/{name}:
    parameters: [{ $ref: "#/components/parameters/name" }]
    get: { tags: [admin-tiers], operationId: getTier, summary: "Get a tier", responses: { "200": { description: The tier, content: { application/json: { schema: { $ref: "#/components/schemas/Tier" } } } }, "404": { $ref: "#/components/responses/Error" } } }
    put:
      tags: [admin-tiers]
      operationId: putTier
      summary: Create or replace a tier; it applies at once
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Tier" } } } }
      responses: { "200": { description: Replaced }, "201": { description: Created }, "400": { $ref: "#/components/responses/Error" } }
    delete: { tags: [admin-tiers], operationId: deleteTier, summary: "Delete an API tier (a file tier it overrode comes back)", responses: { "200": { $ref: "#/components/responses/Object" }, "404": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } } }
  /admin/v1/tiers/{name}/check:
    parameters: [{ $ref: "#/components/parameters/name" }]
    post: { tags: [admin-tiers], operationId: checkTier, summary: "Write, read back and delete a probe object", responses: { "200": { description: "ok, or what failed", content: { application/json: { example: { tier: cloud, ok: false, error: "writing a probe object failed: HTTP 403 AccessDenied" } } } } } }
  /admin/v1/policies:
    get: { tags: [admin-policies], operationId: listPolicies, summary: "List policies, a page at a time (`truncated`, and `next` for `after` when more follow)", parameters: [{ $ref: "#/components/parameters/pageLimit" }, { $ref: "#/components/parameters/after" }, { $ref: "#/components/parameters/namePrefix" }, { $ref: "#/components/parameters/sourceFilter" }], responses: { "200": { $ref: "#/components/responses/Object" } } }
    post:
      tags: [admin-policies]
      operationId: createPolicy
      summary: Create a policy (409 if the name exists)
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Policy" } } } }
      responses: { "201": { description: Created }, "400": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } }
  /admin/v1/policies/dry-run:
    post:
      tags: [admin-policies]
      operationId: dryRunPolicyDocument
      summary: Which stored objects a policy given here would match
      parameters: [{ $ref: "#/components/parameters/limit" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Policy" } } } }
      responses: { "200": { description: Matches, content: { application/json: { example: { policy: dry-run, matches: 2, bytes: 4096, objects: [{ bucket: recordings, key: front/a.mp4, size: 2048 }] } } } } }
  /admin/v1/policies/{name}:
    parameters: [{ $ref: "#/components/parameters/name" }]
    get: { tags: [admin-policies], operationId: getPolicy, summary: "Get a policy", responses: { "200": { description: The policy, content: { application/json: { schema: { $ref: "#/components/schemas/Policy" } } } }, "404": { $ref: "#/components/responses/Error" } } }
    put:
      tags: [admin-policies]
      operationId: putPolicy
      summary: Create or replace a policy; it applies at once
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Policy" } } } }
      responses: { "200": { description: Replaced }, "201": { description: Created }, "400": { $ref: "#/components/responses/Error" } }
    delete: { tags: [admin-policies], operationId: deletePolicy, summary: "Delete an API policy", responses: { "200": { $ref: "#/components/responses/Object" }, "409": { $ref: "#/components/responses/Error" } } }
  /admin/v1/policies/{name}/dry-run:
    parameters: [{ $ref: "#/components/parameters/name" }, { $ref: "#/components/parameters/limit" }]
    post: { tags: [admin-policies], operationId: dryRunPolicy, summary: "Which stored objects a saved policy matches", responses: { "200": { $ref: "#/components/responses/Object" } } }
  /admin/v1/accounts:
    get: { tags: [admin-accounts], operationId: listAccounts, summary: "List accounts (never their secrets), a page at a time (`truncated`, and `next` for `after` when more follow)", parameters: [{ $ref: "#/components/parameters/pageLimit" }, { $ref: "#/components/parameters/after" }, { $ref: "#/components/parameters/namePrefix" }, { $ref: "#/components/parameters/sourceFilter" }, { name: enabled, in: query, required: false, description: "Only enabled (true) or disabled (false) accounts.", schema: { type: boolean } }], responses: { "200": { $ref: "#/components/responses/Object" } } }
    post:
      tags: [admin-accounts]
      operationId: createAccount
      summary: Create an account; the reply is the only time its secret is shown
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Account" } } } }
      responses: { "201": { description: Created, content: { application/json: { schema: { $ref: "#/components/schemas/Account" } } } }, "400": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } }
  /admin/v1/accounts/{accessKey}:
    parameters: [{ $ref: "#/components/parameters/accessKey" }]
    get: { tags: [admin-accounts], operationId: getAccount, summary: "Get an account", responses: { "200": { description: The account, content: { application/json: { schema: { $ref: "#/components/schemas/Account" } } } }, "404": { $ref: "#/components/responses/Error" } } }
    patch:
      tags: [admin-accounts]
      operationId: updateAccount
      summary: Change permissions (allow), Vault settings or enabled (disable)
      requestBody: { required: true, content: { application/json: { schema: { type: object, properties: { allow: { type: array, items: { $ref: "#/components/schemas/Grant" } }, enabled: { type: boolean }, vault: { type: object }, name: { type: string } } }, example: { enabled: false } } } }
      responses: { "200": { description: Updated }, "400": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } }
    delete: { tags: [admin-accounts], operationId: deleteAccount, summary: "Delete an API account", responses: { "200": { $ref: "#/components/responses/Object" }, "409": { $ref: "#/components/responses/Error" } } }
  /admin/v1/buckets:
    get: { tags: [admin-buckets], operationId: listBucketUsage, summary: "Usage per bucket: objects, logical bytes, stored bytes after dedup; a page at a time (`truncated`, and `next` for `after` when more follow)", parameters: [{ $ref: "#/components/parameters/pageLimit" }, { $ref: "#/components/parameters/after" }, { $ref: "#/components/parameters/namePrefix" }], responses: { "200": { $ref: "#/components/responses/Object" } } }
  /admin/v1/buckets/{bucket}:
    parameters: [{ $ref: "#/components/parameters/bucket" }]
    get: { tags: [admin-buckets], operationId: getBucketUsage, summary: "One bucket's usage, and what makes it public (`public`: its policy granting to everyone...; empty when nothing does)", responses: { "200": { description: Usage, content: { application/json: { example: { name: recordings, objects: 2, logicalBytes: 6291456, storedBytes: 3145728, dedupRatio: 2.0, chunks: 3, evictedObjects: 0, noncurrentVersions: 0, noncurrentBytes: 0, deleteMarkers: 0, public: [] } } } }, "404": { $ref: "#/components/responses/Error" } } }
  /admin/v1/buckets/{bucket}/objects/{key}:
    parameters: [{ $ref: "#/components/parameters/bucket" }, { $ref: "#/components/parameters/key" }]
    get: { tags: [admin-buckets], operationId: getObjectStatus, summary: "An object's full status: manifest summary, local state, per-tier state, pending tasks", parameters: [{ name: versionId, in: query, required: false, description: "A version's status instead of the current object's", schema: { type: string } }], responses: { "200": { $ref: "#/components/responses/Object" }, "400": { $ref: "#/components/responses/Error" }, "404": { $ref: "#/components/responses/Error" } } }
  /admin/v1/replication:
    get: { tags: [admin-replication], operationId: getReplicationBacklog, summary: "Backlog, oldest pending age and rate per tier", responses: { "200": { $ref: "#/components/responses/Object" } } }
  /admin/v1/replication/failed:
    get: { tags: [admin-replication], operationId: listFailedReplications, summary: "Copies that gave up, with their last error, a page at a time (`truncated`, and `next` for `after` when more follow)", parameters: [{ $ref: "#/components/parameters/pageLimit" }, { $ref: "#/components/parameters/after" }, { name: bucket, in: query, required: false, schema: { type: string } }, { name: tier, in: query, required: false, schema: { type: string } }, { name: prefix, in: query, required: false, description: "Only keys starting with this.", schema: { type: string } }], responses: { "200": { $ref: "#/components/responses/Object" } } }
  /admin/v1/replication/retry:
    post:
      tags: [admin-replication]
      operationId: retryFailedReplications
      summary: Queue failed copies again (all, or by bucket, key, tier)
      requestBody: { content: { application/json: { schema: { type: object, properties: { bucket: { type: string }, key: { type: string }, tier: { type: string } } } } } }
      responses: { "200": { description: Requeued, content: { application/json: { example: { requeued: 3 } } } } }
  /admin/v1/replicate:
    post:
      tags: [admin-replication]
      operationId: requestReplication
      summary: On-demand replication by keys, prefix and time range, or a policy backfill
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/ReplicationRequest" } } } }
      responses: { "202": { description: Queued, content: { application/json: { example: { job: 8f3a2b1c0d9e8f7a, bucket: recordings, tier: cloud, queued: 12, alreadyReplicated: 3, alreadyQueued: 0, missing: [] } } } }, "400": { $ref: "#/components/responses/Error" } }
  /admin/v1/replication/jobs/{id}:
    parameters: [{ $ref: "#/components/parameters/id" }]
    get: { tags: [admin-replication], operationId: getReplicationJob, summary: "An on-demand request's progress: objects completed, pending, failed and gone (of those it named, already replicated ones included), and bytes", responses: { "200": { description: Progress, content: { application/json: { example: { job: 8f3a2b1c0d9e8f7a, bucket: recordings, tier: cloud, total: 12, completed: 10, pending: 2, failed: 0, gone: 0, done: false, bytes: 125829120, completedBytes: 104857600, failures: [] } } } }, "404": { $ref: "#/components/responses/Error" } } }
  /admin/v1/events:
    get: { tags: [admin-events], operationId: getEventStatus, summary: "Per sink: its ARN (for bucket notification configurations) and how many name it, backlog, oldest pending age, delivered, dropped, last error", responses: { "200": { $ref: "#/components/responses/Object" } } }
    post:
      tags: [admin-events]
      operationId: createEventSink
      summary: "Create an event sink (409 if the name exists); it starts at once and is kept across restarts"
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Sink" } } } }
      responses: { "201": { description: "Created: the sink as GET shows it" }, "400": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } }
  /admin/v1/events/{name}:
    parameters: [{ $ref: "#/components/parameters/name" }]
    get: { tags: [admin-events], operationId: getEventSink, summary: "An event sink's settings (secrets shown as ********), its source and its delivery status (backlog, last error)", responses: { "200": { description: The sink, content: { application/json: { schema: { $ref: "#/components/schemas/Sink" } } } }, "404": { $ref: "#/components/responses/Error" } } }
    put:
      tags: [admin-events]
      operationId: putEventSink
      summary: "Create or replace an event sink; a secret sent back as ******** keeps the stored one"
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Sink" } } } }
      responses: { "200": { description: Replaced }, "201": { description: Created }, "400": { $ref: "#/components/responses/Error" } }
    delete: { tags: [admin-events], operationId: deleteEventSink, summary: "Delete an API event sink (a file sink it overrode comes back)", responses: { "200": { $ref: "#/components/responses/Object" }, "404": { $ref: "#/components/responses/Error" }, "409": { $ref: "#/components/responses/Error" } } }
  /admin/v1/events/{name}/validate:
    parameters: [{ $ref: "#/components/parameters/name" }]
    post: { tags: [admin-events], operationId: validateEventSink, summary: "Sends one s3:TestEvent through the sink's own delivery path (not the outbox: its backlog and counters stay); delivered, or the destination's error", responses: { "200": { description: Result, content: { application/json: { example: { sink: hook, delivered: false, error: "connection refused" } } } }, "404": { $ref: "#/components/responses/Error" } } }
  /admin/v1/trace:
    get:
      tags: [admin-server]
      operationId: traceRequests
      summary: "Live requests as they finish (like mc admin trace): one JSON object per line, streamed"
      description: |
        A chunked `application/x-ndjson` stream. The first line is `{"notice": "tracing", …filters}`;
        then one line per finished request that passes the filters, with the access log's fields
        (time, request_id, api, operation, method, path, status, error_code, access_key, account,
        bucket, key, bytes_in, bytes_out, duration_ms, client, user_agent). A reader that falls
        behind loses requests rather than slowing the server: its buffer holds 1000 lines, and a
        line `{"notice": "dropped N requests: …", "dropped": N}` says how many went. An empty line
        goes out every 2 s when nothing else does (a reader that went away is noticed by the failed write). At most 4 traces at once (429 TooManyTraces).
        The stream ends when the client closes it or the server stops.
      parameters:
        - { name: errors, in: query, required: false, schema: { type: boolean }, description: "Only requests answered with status 400 and up" }
        - { name: account, in: query, required: false, schema: { type: string }, description: "Only requests of this account (its name, or the access key presented)" }
        - { name: bucket, in: query, required: false, schema: { type: string } }
        - { name: api, in: query, required: false, schema: { type: string, enum: [s3, vault, admin, console, system] } }
      responses:
        "200": { description: "The stream", content: { application/x-ndjson: { example: '{"access_key":"CAM7KEY","api":"s3","bucket":"rec","bytes_in":0,"bytes_out":243,"client":"10.0.0.7","duration_ms":0.61,"error_code":"AccessDenied","key":"cam8/1.mp4","method":"PUT","operation":"PutObject","path":"/rec/cam8/1.mp4","request_id":"…","status":403,"time":"2026-01-01T00:00:00.000Z"}' } } }
        "400": { $ref: "#/components/responses/Error" }
        "429": { $ref: "#/components/responses/Error" }
  /api/health:
    get: { tags: [vault], operationId: vaultHealth, summary: "Liveness of the Vault API", security: [], responses: { "200": { description: ok, content: { application/json: { example: { data: ok } } } } } }
  /api/ping:
    post:
      tags: [vault]
      operationId: vaultPing
      summary: Check a Vault account's keys
      security: [{ vaultKeys: [] }]
      parameters: [{ $ref: "#/components/parameters/vaultAccessKey" }, { $ref: "#/components/parameters/vaultSecretKey" }]
      responses: { "200": { description: pong, content: { application/json: { example: { data: pong } } } }, "401": { $ref: "#/components/responses/VaultError" } }
  /api/devices/heartbeat:
    post: { tags: [vault], operationId: vaultHeartbeat, summary: "A device reports it is online", security: [{ vaultKeys: [] }], requestBody: { content: { application/json: { schema: { type: object } } } }, responses: { "200": { description: Recorded }, "401": { $ref: "#/components/responses/VaultError" } } }
  /api/devices:
    get: { tags: [vault], operationId: vaultDevices, summary: "Devices of the account, ONLINE or OFFLINE", security: [{ vaultKeys: [] }], responses: { "200": { description: Devices }, "401": { $ref: "#/components/responses/VaultError" } } }
  /api/storage:
    post:
      tags: [vault]
      operationId: vaultUpload
      summary: Upload a recording (the Kerberos Agent's legacy upload)
      security: [{ vaultKeys: [] }]
      parameters: [{ $ref: "#/components/parameters/vaultAccessKey" }, { $ref: "#/components/parameters/vaultSecretKey" }, { $ref: "#/components/parameters/vaultFileName" }, { $ref: "#/components/parameters/vaultDirectory" }, { $ref: "#/components/parameters/vaultProvider" }]
      requestBody: { required: true, content: { application/octet-stream: { schema: { type: string, format: binary } } } }
      responses: { "200": { description: Stored }, "400": { $ref: "#/components/responses/VaultError" }, "401": { $ref: "#/components/responses/VaultError" }, "403": { $ref: "#/components/responses/VaultError" } }
    get: { tags: [vault], operationId: vaultSignedURL, summary: "A signed download link for a recording", security: [{ vaultKeys: [] }], parameters: [{ $ref: "#/components/parameters/vaultFileName" }], responses: { "200": { description: The link }, "403": { $ref: "#/components/responses/VaultError" }, "404": { $ref: "#/components/responses/VaultError" } } }
    delete: { tags: [vault], operationId: vaultDelete, summary: "Delete a recording", security: [{ vaultKeys: [] }], parameters: [{ $ref: "#/components/parameters/vaultFileName" }], responses: { "200": { description: Deleted }, "403": { $ref: "#/components/responses/VaultError" }, "404": { $ref: "#/components/responses/VaultError" } } }
  /api/storage/blob:
    get: { tags: [vault], operationId: vaultBlob, summary: "A recording's bytes (Range supported), with its ETag (the MD5 of its bytes)", security: [{ vaultKeys: [] }], parameters: [{ $ref: "#/components/parameters/vaultFileName" }], responses: { "200": { description: The bytes, content: { video/mp4: { schema: { type: string, format: binary } } } }, "206": { description: A range }, "403": { $ref: "#/components/responses/VaultError" }, "404": { $ref: "#/components/responses/VaultError" } } }
  /api/storage/bulk:
    post: { tags: [vault], operationId: vaultBulkSignedURLs, summary: "Signed links for many recordings", security: [{ vaultKeys: [] }], requestBody: { content: { application/json: { schema: { type: array, items: { type: object, properties: { filename: { type: string }, uriExpiryTime: { type: integer } } } } } } }, responses: { "200": { description: Links by file name } } }
  /api/storage/signed:
    get: { tags: [vault], operationId: vaultSignedDownload, summary: "Follow a signed link (no keys needed; HMAC, expiry and its account's read checked)", security: [], responses: { "200": { description: The bytes }, "403": { $ref: "#/components/responses/VaultError" } } }
  /api/storage/forward/media:
    post: { tags: [vault], operationId: vaultForward, summary: "Ask for a recording to go to the tiers of its on-demand policies", security: [{ vaultKeys: [] }], parameters: [{ $ref: "#/components/parameters/vaultFileName" }], responses: { "200": { description: Queued }, "403": { $ref: "#/components/responses/VaultError" }, "409": { $ref: "#/components/responses/VaultError" } } }
  /api/storage/tus:
    options: { tags: [tus], operationId: tusOptions, summary: "tus capabilities", security: [], responses: { "204": { description: "Tus-Version, Tus-Extension, Tus-Max-Size" } } }
    post: { tags: [tus], operationId: tusCreate, summary: "Create an upload (Upload-Length, Upload-Metadata)", security: [{ vaultKeys: [] }], parameters: [{ $ref: "#/components/parameters/tusResumable" }], responses: { "201": { description: "Created; Location names it" }, "400": { $ref: "#/components/responses/VaultError" }, "403": { $ref: "#/components/responses/VaultError" } } }
  /api/storage/tus/{id}:
    parameters: [{ $ref: "#/components/parameters/id" }]
    head: { tags: [tus], operationId: tusOffset, summary: "The upload's offset", security: [{ vaultKeys: [] }], responses: { "200": { description: Upload-Offset and Upload-Length }, "404": { $ref: "#/components/responses/VaultError" } } }
    patch: { tags: [tus], operationId: tusPatch, summary: "Append bytes at Upload-Offset", security: [{ vaultKeys: [] }], requestBody: { content: { application/offset+octet-stream: { schema: { type: string, format: binary } } } }, responses: { "204": { description: "Appended; Upload-Offset is the new offset, and the final PATCH (the recording stored) also answers its ETag, the MD5 of its bytes" }, "403": { $ref: "#/components/responses/VaultError" }, "409": { $ref: "#/components/responses/VaultError" }, "415": { $ref: "#/components/responses/VaultError" } } }
    delete: { tags: [tus], operationId: tusDelete, summary: "Abandon an upload", security: [{ vaultKeys: [] }], responses: { "204": { description: Deleted } } }
    options: { tags: [tus], operationId: tusOptionsUpload, summary: "tus capabilities", security: [], responses: { "204": { description: Capabilities } } }
"""#
}
