/// The tier pages' templates: the list with the create form, a tier's page with `Check`, its edit
/// form and delete. Both forms show the fields of one tier type (TierForm.swift); the create
/// form's type is chosen first (a GET of `/console/tiers?type=…`, sent by the script as soon as
/// the menu changes). Registered with the others through `AdminTemplates.all`.
enum TierTemplates {
    /// One tier type's fields. No `required` attribute: the admin API decides what is missing and
    /// its error names the field (marked `aria-invalid`); secrets are never written back.
    static let fields = """
        {{#fields}}
        {{#isFlag}}<div class="flag"><input type="checkbox" id="{{id}}" name="{{name}}" value="true"{{#checked}} checked{{/checked}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}><label for="{{id}}">{{label}}</label></div>{{/isFlag}}
        {{#isText}}<label for="{{id}}">{{label}}{{#required}} (required){{/required}}</label><input id="{{id}}" name="{{name}}" value="{{value}}" inputmode="{{inputMode}}"{{#required}} aria-required="true"{{/required}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{/isText}}
        {{#isSecret}}<label for="{{id}}">{{label}}{{#required}} (required){{/required}}</label>{{#isSecretText}}<textarea id="{{id}}" name="{{name}}" rows="4" autocomplete="off" spellcheck="false"{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}></textarea>{{/isSecretText}}{{^isSecretText}}<input id="{{id}}" name="{{name}}" type="password" autocomplete="new-password" value=""{{#required}} aria-required="true"{{/required}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{/isSecretText}}{{/isSecret}}
        {{#hasHint}}<p class="field-hint muted" id="{{hintID}}">{{hint}}</p>{{/hasHint}}
        {{/fields}}
        """

    static let tiers = """
        {{> head}}
        <h1>Tiers</h1>
        {{#hasTiers}}
        <table class="list" id="tiers">
          <thead><tr><th scope="col">Tier</th><th scope="col">Type</th><th scope="col">Defined in</th></tr></thead>
          <tbody>{{#tiers}}<tr><td><a href="{{link}}">{{name}}</a></td><td>{{type}}</td><td>{{source}}</td></tr>{{/tiers}}</tbody>
        </table>
        {{/hasTiers}}
        <h2>New tier</h2>
        {{#error}}<p class="error" role="alert" id="form-error">{{error}}</p>{{/error}}
        <form method="get" action="/console/tiers" id="tier-type-form" class="inline">
          <label for="t-type" class="inline-label">Type</label>
          <select id="t-type" name="type" data-submit-on-change>{{#kinds}}<option value="{{kind}}"{{#selected}} selected{{/selected}}>{{kind}}</option>{{/kinds}}</select>
          <button type="submit" id="choose-type">Show its fields</button>
        </form>
        <form method="post" action="/console/tiers" id="tier-form" class="card" aria-label="New {{kind}} tier">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="type" value="{{kind}}">
          <p class="muted" id="tier-form-kind">A new {{kind}} tier</p>
          <label for="t-name">Name (required)</label><input id="t-name" name="name" aria-required="true" value="{{form_name}}"{{#nameInvalid}} aria-invalid="true"{{/nameInvalid}}>
          {{> tierFields}}
          <button type="submit" id="create-tier">Create tier</button>
        </form>
        {{> foot}}
        """

    static let tier = """
        {{> head}}
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/tiers">Tiers</a> /</nav>
        <h1>{{name}}</h1>
        {{#error}}<p class="error" role="alert" id="form-error">{{error}}</p>{{/error}}
        <table class="facts" id="tier-facts"><caption>Settings</caption><tbody>{{#facts}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/facts}}</tbody></table>
        <form method="post" action="/console/tiers/check" class="inline" id="check-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="name" value="{{name}}">
          <button type="submit" id="check">Check</button>
        </form>
        {{#checked}}
        <h2>Check {{#checkOK}}passed{{/checkOK}}{{^checkOK}}failed{{/checkOK}}</h2>
        <table class="facts" id="check-result"><tbody>{{#checkFacts}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/checkFacts}}</tbody></table>
        {{/checked}}
        <h2>Failed copies</h2>
        {{#retried}}<p role="status" id="retried">{{retriedText}}</p>{{/retried}}
        {{^showingFailed}}<p><a class="button" id="show-failed" href="{{failedLink}}">Show failed copies</a></p>{{/showingFailed}}
        {{#showingFailed}}
        {{^hasFailed}}<p id="no-failed">No copy to this tier is FAILED.</p>{{/hasFailed}}
        {{#hasFailed}}
        <div class="scroll">
        <table class="list" id="failed-copies">
          <thead><tr><th scope="col">Recording</th><th scope="col">Version</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
          <tbody>{{#failed}}<tr><td class="key"><a href="{{link}}">{{bucket}}/{{key}}</a></td><td class="key">{{version}}</td><td class="num">{{attempts}}</td><td>{{lastError}}</td></tr>{{/failed}}</tbody>
        </table>
        </div>
        {{#moreFailed}}<p class="muted">The first {{failedShown}} are listed; the retry queues them all.</p>{{/moreFailed}}
        <form method="post" action="/console/tiers/retry" class="inline" id="retry-failed-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="name" value="{{name}}">
          <button type="submit" id="retry-failed">Retry every failed copy</button>
        </form>
        {{/hasFailed}}
        {{/showingFailed}}
        {{> locked}}
        {{> tierEdit}}
        {{> deleteBox}}
        {{> foot}}
        """

    static let tierEdit = """
        {{#editable}}
        <h2>Edit tier</h2>
        <form method="post" action="/console/tiers/edit" id="tier-edit-form" class="card" aria-label="Edit tier {{name}}">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="name" value="{{name}}">
          <input type="hidden" name="type" value="{{kind}}">
          <p class="muted">Type {{kind}} (it cannot change: delete the tier and make a new one)</p>
          {{> tierFields}}
          <button type="submit" id="save-tier">Save tier</button>
        </form>
        {{/editable}}
        """

    static let all: [(String, String)] = [("tiers", tiers), ("tier", tier), ("tierEdit", tierEdit), ("tierFields", fields)]
}
