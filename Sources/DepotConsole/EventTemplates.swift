/// The event sink pages' templates besides the list (AdminTemplates.events): a sink's page with
/// its delivery status, `Validate`, its edit form and delete, and the fields both the create and
/// the edit form show (SinkForm.swift). Registered with the others through `AdminTemplates.all`;
/// every value goes through `{{ }}`, which HTML-escapes it.
enum EventTemplates {
    /// One sink type's fields. Secrets are never written back; the field the admin API's error
    /// names is marked `aria-invalid`.
    static let fields = """
        {{#fields}}
        {{#isFlag}}<div class="flag"><input type="checkbox" id="{{id}}" name="{{name}}" value="true"{{#checked}} checked{{/checked}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}><label for="{{id}}">{{label}}</label></div>{{/isFlag}}
        {{#isText}}<label for="{{id}}">{{label}}{{#required}} (required){{/required}}</label><input id="{{id}}" name="{{name}}" value="{{value}}"{{#required}} aria-required="true"{{/required}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{/isText}}
        {{#isSecret}}<label for="{{id}}">{{label}}{{#required}} (required){{/required}}</label><input id="{{id}}" name="{{name}}" type="password" autocomplete="new-password" value=""{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{/isSecret}}
        {{#isChoice}}<label for="{{id}}">{{label}}</label><select id="{{id}}" name="{{name}}"{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{#options}}<option value="{{option}}"{{#selected}} selected{{/selected}}>{{option}}</option>{{/options}}</select>{{/isChoice}}
        {{#hasHint}}<p class="field-hint muted" id="{{hintID}}">{{hint}}</p>{{/hasHint}}
        {{/fields}}
        """

    /// The create form under the list: the type is chosen first (a GET of `/console/events?type=…`).
    static let create = """
        <h2>New event sink</h2>
        {{#error}}<p class="error" role="alert" id="form-error">{{error}}</p>{{/error}}
        <form method="get" action="/console/events" id="sink-type-form" class="inline">
          <label for="s-type" class="inline-label">Type</label>
          <select id="s-type" name="type" data-submit-on-change>{{#kinds}}<option value="{{kind}}"{{#selected}} selected{{/selected}}>{{kind}}</option>{{/kinds}}</select>
          <button type="submit" id="choose-sink-type">Show its fields</button>
        </form>
        <form method="post" action="/console/events" id="sink-form" class="card" aria-label="New {{kind}} sink">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="type" value="{{kind}}">
          <p class="muted" id="sink-form-kind">A new {{kind}} sink</p>
          <label for="s-name">Name (required)</label><input id="s-name" name="name" aria-required="true" value="{{form_name}}"{{#nameInvalid}} aria-invalid="true"{{/nameInvalid}}>
          {{> sinkFields}}
          <button type="submit" id="create-sink">Create sink</button>
        </form>
        """

    static let sink = """
        {{> head}}
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/events">Events</a> /</nav>
        <h1>{{name}}</h1>
        {{#error}}<p class="error" role="alert" id="form-error">{{error}}</p>{{/error}}
        {{#validated}}
        <p id="validation" role="status" class="{{^delivered}}error{{/delivered}}">Test event to {{sink}}: {{#delivered}}delivered{{/delivered}}{{^delivered}}not delivered: {{error}}{{/delivered}}</p>
        {{/validated}}
        <table class="facts" id="sink-status"><caption>Delivery</caption><tbody>{{#status}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/status}}</tbody></table>
        <form method="post" action="/console/events/validate" class="inline" id="validate-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="name" value="{{name}}">
          <input type="hidden" name="from" value="sink">
          <button type="submit" id="validate">Validate (send a test event)</button>
        </form>
        <table class="facts" id="sink-facts"><caption>Settings</caption><tbody>{{#facts}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/facts}}</tbody></table>
        {{> locked}}
        {{#editable}}
        <h2>Edit sink</h2>
        <form method="post" action="/console/events/edit" id="sink-edit-form" class="card" aria-label="Edit sink {{name}}">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="name" value="{{name}}">
          <p class="muted">A {{kind}} sink (the type cannot change: delete the sink and make a new one)</p>
          {{> sinkFields}}
          <button type="submit" id="save-sink">Save sink</button>
        </form>
        {{/editable}}
        {{> deleteBox}}
        {{> foot}}
        """

    static let all: [(String, String)] = [("sink", sink), ("sinkCreate", create), ("sinkFields", fields)]
}
