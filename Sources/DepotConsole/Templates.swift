import Mustache

/// The console's pages as mustache templates, compiled into the binary (no files to ship). Every
/// value goes through `{{ }}`, which HTML-escapes it (`<`, `>`, `&`, `"`, `'`): the templates
/// never use `{{{ }}}` or `{{& }}`, so a key or metadata value holding markup is shown as text.
enum Templates {
    static let head = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Depot</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/console/">Depot</a>
          {{#user}}
          <nav aria-label="Main"><a href="/console/buckets">Recordings</a><a href="/console/cameras">Cameras</a>{{#admin}}<a href="/console/dashboard">Dashboard</a><a href="/console/tiers">Tiers</a><a href="/console/policies">Policies</a><a href="/console/accounts">Accounts</a><a href="/console/events">Events</a>{{/admin}}</nav>
          <form method="post" action="/console/signout" class="signout">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <span class="who" title="Signed in as">{{user}}</span>
            <button type="submit">Sign out</button>
          </form>
          {{/user}}
        </header>
        <main id="main">
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        """

    static let foot = """
        </main>
        <script src="/console/assets/console.js"></script>
        </body>
        </html>
        """

    static let signIn = """
        {{> head}}
        <section class="card narrow">
          <h1>Sign in</h1>
          <p class="hint">With an account's access key and secret key, or the root user and password.</p>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/console/signin" id="signin">
            <input type="hidden" name="csrf" value="{{signinToken}}">
            <label for="accessKey">Access key</label>
            <input id="accessKey" name="accessKey" autocomplete="username" required value="{{accessKey}}">
            <label for="secretKey">Secret key</label>
            <input id="secretKey" name="secretKey" type="password" autocomplete="current-password" required>
            <button type="submit">Sign in</button>
          </form>
        </section>
        {{> foot}}
        """

    static let buckets = """
        {{> head}}
        <h1>Recordings</h1>
        {{^buckets}}<p>This account may list no bucket.</p>{{/buckets}}
        {{#hasBuckets}}
        <table class="list">
          <thead><tr><th scope="col">Bucket</th><th scope="col">Created</th><th scope="col">Versioning</th></tr></thead>
          <tbody>
          {{#buckets}}
          <tr><td><a href="{{link}}">{{name}}</a>{{#prefix}} <span class="muted">({{prefix}})</span>{{/prefix}}</td>
              <td>{{created}}</td><td>{{versioning}}</td></tr>
          {{/buckets}}
          </tbody>
        </table>
        {{/hasBuckets}}
        {{> foot}}
        """

    static let list = """
        {{> head}}
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href="/console/buckets">Buckets</a> /
          {{#crumbs}}<a href="{{link}}">{{name}}</a> / {{/crumbs}}
        </nav>
        <h1>{{bucket}}</h1>
        <form method="get" action="/console/list" class="filters" role="search">
          <input type="hidden" name="bucket" value="{{bucket}}">
          <div><label for="prefix">Key prefix</label><input id="prefix" name="prefix" value="{{prefix}}"></div>
          <div><label for="camera">Camera</label><input id="camera" name="camera" value="{{camera}}" list="cameras"></div>
          <datalist id="cameras">{{#cameras}}<option value="{{.}}">{{/cameras}}</datalist>
          <div><label for="day">Day (UTC)</label><input id="day" name="day" type="date" value="{{day}}"></div>
          <div><label for="from">From (UTC)</label><input id="from" name="from" type="datetime-local" value="{{from}}"></div>
          <div><label for="to">To (UTC)</label><input id="to" name="to" type="datetime-local" value="{{to}}"></div>
          <button type="submit">Search</button>
        </form>
        {{#hasFolders}}
        <h2>Folders</h2>
        <ul class="folders">{{#folders}}<li><a href="{{link}}">{{name}}</a></li>{{/folders}}</ul>
        {{/hasFolders}}
        <h2>Recordings</h2>
        {{#timeline}}<p><a id="timeline-link" href="{{timeline}}">Show this camera's day as a timeline</a></p>{{/timeline}}
        {{^rows}}<p>No recordings {{#filtered}}match in this page of the bucket{{/filtered}}{{^filtered}}here{{/filtered}}.</p>{{/rows}}
        {{#hasRows}}
        <div class="scroll">
        <table class="list" id="recordings">
          <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Key</th><th scope="col">Camera</th>
            <th scope="col">Duration</th><th scope="col">FPS</th>
            <th scope="col">Size</th><th scope="col">Replication</th><th scope="col">Lock</th></tr></thead>
          <tbody>
          {{#rows}}
          <tr><td>{{time}}</td><td class="key"><a href="{{link}}">{{key}}</a></td><td>{{camera}}</td>
              <td class="num duration">{{duration}}</td><td class="num fps">{{fps}}</td>
              <td class="num">{{size}}</td>
              <td>{{#replicas}}<span class="badge {{state}}">{{tier}}: {{state}}</span> {{/replicas}}{{^replicas}}<span class="muted">local only</span>{{/replicas}}</td>
              <td>{{lock}}</td></tr>
          {{/rows}}
          </tbody>
        </table>
        </div>
        {{/hasRows}}
        <p class="pager">{{#scanned}}<span class="muted">{{scanned}}</span>{{/scanned}}
          {{#next}}<a rel="next" id="next-page" href="{{next}}">Next page →</a>{{/next}}</p>
        {{> foot}}
        """

    static let object = """
        {{> head}}
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href="/console/buckets">Buckets</a> / <a href="{{bucketLink}}">{{bucket}}</a> /
        </nav>
        <h1 class="key">{{key}}</h1>
        {{#playable}}
        <figure class="player">
          <video id="player" controls muted preload="metadata" src="{{playURL}}" aria-label="Recording {{key}}" aria-describedby="player-caption"></video>
          <figcaption id="player-caption">Recording {{key}}, recorded {{time}} UTC</figcaption>
        </figure>
        {{/playable}}
        <div class="actions">
          <a class="button" id="download" href="{{downloadURL}}">Download</a>
          {{#mayDelete}}
          <form method="post" action="/console/delete" class="inline" data-confirm="Delete this recording?">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="bucket" value="{{bucket}}">
            <input type="hidden" name="key" value="{{key}}">
            <button type="submit" class="danger" id="delete">Delete</button>
          </form>
          {{/mayDelete}}
          {{#mayReplicate}}
          <form method="post" action="/console/replicate" class="inline" id="replicate-form">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="bucket" value="{{bucket}}">
            <input type="hidden" name="key" value="{{key}}">
            <label for="tier" class="inline-label">Copy to tier</label>
            <select id="tier" name="tier">{{#replicateTiers}}<option value="{{.}}">{{.}}</option>{{/replicateTiers}}</select>
            <button type="submit" id="replicate">Replicate now</button>
          </form>
          {{/mayReplicate}}
        </div>
        {{> objectLock}}
        <table class="facts">
          <tbody>
          <tr><th scope="row">Time (UTC)</th><td>{{time}}</td></tr>
          <tr><th scope="row">Size</th><td>{{size}}</td></tr>
          <tr><th scope="row">Type</th><td>{{contentType}}</td></tr>
          <tr><th scope="row">ETag</th><td>{{etag}}</td></tr>
          <tr><th scope="row">Replication</th><td>{{#replicas}}<span class="badge {{state}}">{{tier}}: {{state}}</span>{{#error}} <span class="muted">{{error}}</span>{{/error}}{{#retryable}}{{#mayReplicate}}
            <form method="post" action="/console/replicate" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="bucket" value="{{bucket}}"><input type="hidden" name="key" value="{{key}}"><input type="hidden" name="tier" value="{{tier}}"><button type="submit" id="retry-{{tier}}" aria-label="Retry the copy to {{tier}}">Retry</button></form>{{/mayReplicate}}{{/retryable}}<br>{{/replicas}}{{^replicas}}local only{{/replicas}}</td></tr>
          <tr><th scope="row">Lock</th><td>{{lock}}</td></tr>
          {{#metadata}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/metadata}}
          </tbody>
        </table>
        {{> foot}}
        """

    static let dashboard = """
        {{> head}}
        <h1>Dashboard</h1>
        <h2>Ingest</h2>
        <div class="charts">
        {{#charts}}
        <figure class="chart">
          <figcaption>{{title}}: <span class="total">{{summary}}</span></figcaption>
          <svg id="{{id}}" width="100%" height="{{height}}" role="img" aria-label="{{title}}: {{summary}}" viewBox="0 0 {{width}} {{height}}" preserveAspectRatio="none" data-total-bytes="{{totalBytes}}" data-total-objects="{{totalObjects}}">
            <rect class="frame" x="0" y="0" width="{{width}}" height="{{height}}" fill="none" stroke="#ccc"></rect>
            {{#bars}}<rect class="bar" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" fill="#2a6fb0" data-bytes="{{bytes}}"><title>{{label}}</title></rect>{{/bars}}
          </svg>
        </figure>
        {{/charts}}
        </div>
        <h2>Storage</h2>
        <table class="facts" id="storage">
          <tbody>{{#storage}}<tr id="stat-{{id}}"><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/storage}}</tbody>
        </table>
        <h2>Replication backlog</h2>
        {{^hasBacklog}}<p id="no-backlog">Nothing waits for a tier.</p>{{/hasBacklog}}
        {{#hasBacklog}}
        <div class="scroll">
        <table class="list" id="backlog">
          <thead><tr><th scope="col">Tier</th><th scope="col">Tasks waiting</th><th scope="col">Oldest waiting for</th>
            <th scope="col">State</th><th scope="col">Failures in a row</th><th scope="col">Last error</th></tr></thead>
          <tbody>{{#backlog}}<tr><td>{{tier}}</td><td class="num">{{count}}</td><td>{{oldest}}</td>
            <td><span class="badge {{state}}">{{state}}</span>{{#breaker}} <span class="muted">breaker {{breaker}}</span>{{/breaker}}</td>
            <td class="num">{{failures}}</td><td>{{#lastError}}<span class="error-text">{{lastError}}</span>{{/lastError}}</td></tr>{{/backlog}}</tbody>
        </table>
        </div>
        {{/hasBacklog}}
        <h2>Event sinks</h2>
        {{^hasSinks}}<p id="no-sinks">No event sink is configured.</p>{{/hasSinks}}
        {{#hasSinks}}
        <div class="scroll">
        <table class="list" id="sinks">
          <thead><tr><th scope="col">Sink</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Waiting</th>
            <th scope="col">Delivered</th><th scope="col">Last error</th></tr></thead>
          <tbody>{{#sinks}}<tr><td>{{name}}</td><td>{{type}}</td><td><span class="badge {{state}}">{{state}}</span></td>
            <td class="num">{{backlog}}</td><td class="num">{{delivered}}</td><td>{{lastError}}</td></tr>{{/sinks}}</tbody>
        </table>
        </div>
        {{/hasSinks}}
        {{> foot}}
        """

    static let cameras = """
        {{> head}}
        <h1>Cameras</h1>
        {{^hasCameras}}<p>No camera has sent a heartbeat for this account.</p>{{/hasCameras}}
        {{#hasCameras}}
        <div class="scroll">
        <table class="list" id="cameras">
          <thead><tr><th scope="col">Camera</th><th scope="col">Status</th><th scope="col">Last seen (UTC)</th>
            <th scope="col">Device</th><th scope="col">Agent</th><th scope="col">Last recording</th>{{#showAccounts}}<th scope="col">Accounts</th>{{/showAccounts}}</tr></thead>
          <tbody>
          {{#cameras}}
          <tr><td>{{camera}}</td><td><span class="badge {{status}}">{{status}}</span></td><td>{{lastSeen}}</td>
              <td class="key">{{key}}{{#hostname}} <span class="muted">({{hostname}})</span>{{/hostname}}</td><td>{{version}}</td>
              <td class="last-recording">{{#lastRecordingLink}}<a href="{{lastRecordingLink}}" title="{{lastRecordingTime}}">{{lastRecording}}</a>{{/lastRecordingLink}}{{^lastRecordingLink}}<span class="muted">none recorded</span>{{/lastRecordingLink}}</td>
              {{#showAccounts}}<td>{{accounts}}</td>{{/showAccounts}}</tr>
          {{/cameras}}
          </tbody>
        </table>
        </div>
        {{#truncated}}<p class="muted">Only the most recently seen devices are shown.</p>{{/truncated}}
        {{/hasCameras}}
        {{> foot}}
        """

    static let problem = """
        {{> head}}
        <section class="card narrow">
          <h1>{{heading}}</h1>
          <p class="error" role="alert">{{message}}</p>
          <p><a href="/console/">Back to the console</a></p>
        </section>
        {{> foot}}
        """

    /// All of them, parsed once; a template that does not parse is a programming error caught by the first test.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [
            ("head", head), ("foot", foot), ("signin", signIn), ("buckets", buckets), ("list", list), ("object", object),
            ("dashboard", dashboard), ("cameras", cameras), ("timeline", RecordingsTimeline.template),
            ("problem", problem), ("objectLock", LockActionsTemplate.text),
        ] + AdminTemplates.all {
            do { try library.register(text, named: name) } catch { fatalError("console template \(name): \(error)") }
        }
        return library
    }()
}
