/// The parts of the tier, policy and account pages that change or delete the item: an edit form
/// prefilled from its settings, a delete that asks first, or why it cannot be changed here.
/// Registered with the others through `AdminTemplates.all`.
enum EditTemplates {
    /// Why an item from the configuration file or from a bucket's S3 configuration has no edit form.
    static let locked = """
        {{#lockedReason}}<p class="note" id="not-editable" role="note">{{lockedReason}}</p>{{/lockedReason}}
        """

    /// Delete: the first press only asks (a GET with `confirm=delete`); the second is the CSRF-checked POST.
    static let deleteBox = """
        {{#deletable}}
        {{^confirmDelete}}<p><a class="button danger" id="delete-link" href="{{confirmLink}}">Delete…</a></p>{{/confirmDelete}}
        {{#confirmDelete}}
        <form method="post" action="{{deleteAction}}" class="card" id="delete-form" role="alertdialog" aria-labelledby="delete-question">
          <p id="delete-question">Delete {{what}} {{name}}? This cannot be undone.</p>
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="{{keyField}}" value="{{keyValue}}">
          <button type="submit" id="confirm-delete" class="danger">Delete {{what}}</button>
          <a href="{{cancelLink}}" id="cancel-delete">Cancel</a>
        </form>
        {{/confirmDelete}}
        {{/deletable}}
        """

    static let policyEdit = """
        {{#editable}}
        <h2>Edit policy</h2>
        {{#dryRunEdit}}
        <section id="edit-dry-run" class="card"><h3>Dry run of the edit</h3>
          <p>Would match <strong id="edit-dry-matches">{{dryMatches}}</strong> stored objects ({{dryBytes}} bytes).</p>
          <ul>{{#dryObjects}}<li class="key">{{bucket}}/{{key}} ({{size}} bytes)</li>{{/dryObjects}}</ul>
        </section>
        {{/dryRunEdit}}
        <form method="post" action="/console/policies/edit" id="policy-edit-form" class="card">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="name" value="{{name}}">
          {{> policyFields}}
          <button type="submit" name="action" value="dryrun" id="edit-dry-run-button">Dry run</button>
          <button type="submit" name="action" value="save" id="save-policy-edit">Save policy</button>
        </form>
        {{/editable}}
        """

    /// Keyed on `accountEditable`, not `editable`: the detail page is shared with policies, and an
    /// account's page must not show the policy edit form (nor a policy's the account's controls).
    static let accountEdit = """
        {{#accountEditable}}
        <form method="post" action="/console/accounts/enable" class="inline" id="enable-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="accessKey" value="{{keyValue}}">
          <input type="hidden" name="enabled" value="{{^isEnabled}}true{{/isEnabled}}{{#isEnabled}}false{{/isEnabled}}">
          <button type="submit" id="toggle-enabled">{{#isEnabled}}Disable account{{/isEnabled}}{{^isEnabled}}Enable account{{/isEnabled}}</button>
        </form>
        {{#hasGrantRows}}
        <h2>Edit grants</h2>
        <form method="post" action="/console/accounts/grants" id="grants-form" class="card">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="accessKey" value="{{keyValue}}">
          <input type="hidden" name="rows" value="{{grantRowCount}}">
          {{#grantRows}}
          <fieldset class="grant" id="grant-{{index}}">
            <legend>{{legend}}</legend>
            <label for="g{{index}}-bucket">Bucket (* for every bucket)</label><input id="g{{index}}-bucket" name="bucket-{{index}}" value="{{bucket}}">
            <label for="g{{index}}-prefix">Key prefix</label><input id="g{{index}}-prefix" name="prefix-{{index}}" value="{{prefix}}">
            {{#actions}}<label class="check" for="g{{index}}-{{action}}"><input type="checkbox" id="g{{index}}-{{action}}" name="action-{{index}}-{{action}}" value="1"{{#checked}} checked{{/checked}}>{{action}}</label>{{/actions}}
            {{^blank}}<label class="check" for="g{{index}}-remove"><input type="checkbox" id="g{{index}}-remove" name="remove-{{index}}" value="1"{{#removed}} checked{{/removed}}>remove this grant</label>{{/blank}}
          </fieldset>
          {{/grantRows}}
          <button type="submit" id="save-grants">Save grants</button>
        </form>
        {{/hasGrantRows}}
        {{/accountEditable}}
        """

    /// A policy's or an account's page: its settings, what a policy matches now, and the edit parts.
    static let detail = """
        {{> head}}
        <nav class="crumbs" aria-label="Breadcrumb"><a href="{{listLink}}">{{listName}}</a> /</nav>
        <h1 class="key">{{name}}</h1>
        {{#error}}<p class="error" role="alert" id="form-error">{{error}}</p>{{/error}}
        <table class="facts" id="detail-facts"><caption>Settings</caption><tbody>{{#facts}}<tr><th scope="row">{{name}}</th><td class="key">{{value}}</td></tr>{{/facts}}</tbody></table>
        {{#dryRun}}
        <h2>What it matches now</h2>
        <p id="dry-matches-saved">{{matches}} stored objects ({{bytes}} bytes)</p>
        {{/dryRun}}
        {{> locked}}
        {{> policyEdit}}
        {{> accountEdit}}
        {{> deleteBox}}
        {{> foot}}
        """

    static let all: [(String, String)] = [
        ("locked", locked), ("deleteBox", deleteBox), ("policyEdit", policyEdit),
        ("accountEdit", accountEdit),
    ]
}
