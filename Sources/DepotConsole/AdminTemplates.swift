/// The templates of the policy, account and event pages (the tier pages' are in TierTemplates),
/// registered with the others in `Templates.library`. As there, every value goes through `{{ }}`, which HTML-escapes it.
enum AdminTemplates {
    static let policies = """
        {{> head}}
        <h1>Policies</h1>
        {{#hasPolicies}}
        <div class="scroll">
        <table class="list" id="policies">
          <thead><tr><th scope="col">Policy</th><th scope="col">Match</th><th scope="col">Replicate</th><th scope="col">Defined in</th></tr></thead>
          <tbody>{{#policies}}<tr><td><a href="{{link}}">{{name}}</a></td><td class="key">{{match}}</td><td class="key">{{replicate}}</td><td>{{source}}</td></tr>{{/policies}}</tbody>
        </table>
        </div>
        {{/hasPolicies}}
        <h2>New policy</h2>
        {{#error}}<p class="error" role="alert" id="form-error">{{error}}</p>{{/error}}
        {{#dryRun}}
        <section id="dry-run" class="card"><h3>Dry run</h3>
          <p>Matches <strong id="dry-matches">{{dryMatches}}</strong> stored objects ({{dryBytes}} bytes).</p>
          <ul>{{#dryObjects}}<li class="key">{{bucket}}/{{key}} ({{size}} bytes)</li>{{/dryObjects}}</ul>
        </section>
        {{/dryRun}}
        <form method="post" action="/console/policies" id="policy-form" class="card">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="p-name">Name</label><input id="p-name" name="name" value="{{form_name}}"{{#nameInvalid}} aria-invalid="true"{{/nameInvalid}}>
          {{> policyFields}}
          <button type="submit" name="action" value="dryrun" id="dry-run-button">Dry run</button>
          <button type="submit" name="action" value="save" id="save-policy">Save policy</button>
        </form>
        {{> foot}}
        """

    static let accounts = """
        {{> head}}
        <h1>Accounts</h1>
        {{#created}}
        <section class="card" id="new-account" role="status">
          <h2>Account created</h2>
          <p>Copy the secret key now: it is shown this once.</p>
          <table class="facts"><tbody>
            <tr><th scope="row">Access key</th><td id="new-access-key">{{newAccessKey}}</td></tr>
            <tr><th scope="row">Secret key</th><td id="new-secret-key">{{newSecretKey}}</td></tr>
          </tbody></table>
        </section>
        {{/created}}
        {{#hasAccounts}}
        <div class="scroll">
        <table class="list" id="accounts">
          <thead><tr><th scope="col">Name</th><th scope="col">Access key</th><th scope="col">Enabled</th><th scope="col">Grants</th><th scope="col">Defined in</th></tr></thead>
          <tbody>{{#accounts}}<tr><td><a href="{{link}}">{{name}}</a></td><td class="key">{{accessKey}}</td><td>{{enabled}}</td><td class="key">{{allow}}</td><td>{{source}}</td></tr>{{/accounts}}</tbody>
        </table>
        </div>
        {{/hasAccounts}}
        <h2>New account</h2>
        {{#error}}<p class="error" role="alert" id="form-error">{{error}}</p>{{/error}}
        <form method="post" action="/console/accounts" id="account-form" class="card">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="a-template">Template</label>
          <select id="a-template" name="template">{{#templates}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/templates}}</select>
          <label for="a-name">Name</label><input id="a-name" name="name" value="{{form_name}}">
          <label for="a-bucket">Bucket</label><input id="a-bucket" name="bucket" value="{{form_bucket}}" aria-describedby="a-bucket-hint">
          <p class="field-hint muted" id="a-bucket-hint">a viewer may have several, comma-separated, or none: every bucket</p>
          <label for="a-prefix">Key prefix</label><input id="a-prefix" name="prefix" value="{{form_prefix}}">
          <button type="submit" id="create-account">Create account</button>
        </form>
        {{> foot}}
        """

    static let events = """
        {{> head}}
        <h1>Event sinks</h1>
        <p>Events waiting in the outbox: <span id="outbox">{{outbox}}</span></p>
        {{#validated}}
        <p id="validation" role="status" class="{{^delivered}}error{{/delivered}}">Test event to {{sink}}: {{#delivered}}delivered{{/delivered}}{{^delivered}}not delivered: {{error}}{{/delivered}}</p>
        {{/validated}}
        {{^hasSinks}}<p>No event sink is configured.</p>{{/hasSinks}}
        {{#hasSinks}}
        <div class="scroll">
        <table class="list" id="sinks">
          <thead><tr><th scope="col">Sink</th><th scope="col">Type</th><th scope="col">Backlog</th><th scope="col">Oldest pending (s)</th>
            <th scope="col">Delivered</th><th scope="col">Dropped</th><th scope="col">Last error</th><th scope="col">Check</th></tr></thead>
          <tbody>{{#sinks}}<tr><td><a href="{{link}}">{{name}}</a></td><td>{{type}}</td><td class="num">{{backlog}}</td><td class="num">{{oldestPendingAgeSeconds}}</td>
            <td class="num">{{delivered}}</td><td class="num">{{dropped}}</td><td>{{#lastError}}<span class="error">{{lastError}}</span>{{/lastError}}{{^lastError}}—{{/lastError}}</td>
            <td><form method="post" action="/console/events/validate" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="name" value="{{name}}"><button type="submit" id="validate-{{name}}">Validate</button></form></td></tr>{{/sinks}}</tbody>
        </table>
        </div>
        {{/hasSinks}}
        {{> sinkCreate}}
        {{> foot}}
        """

    static let all: [(String, String)] =
        [
            ("detail", EditTemplates.detail),
            ("policies", policies), ("policyFields", PolicyForm.template), ("accounts", accounts), ("events", events),
        ] + EditTemplates.all + TierTemplates.all + EventTemplates.all
}
