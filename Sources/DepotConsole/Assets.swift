/// The console's stylesheet and script, compiled into the binary and served from
/// `/console/assets/`: no CDN, no build step, so the console works offline.
enum Assets {
    static func asset(named name: String) -> (body: String, type: String)? {
        switch name {
        case "console.css": (css, "text/css; charset=utf-8")
        case "console.js": (javascript, "text/javascript; charset=utf-8")
        default: nil
        }
    }

    static let css = """
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f4f6f9}
        a{color:#1452a8}
        a:focus,button:focus,input:focus,select:focus,textarea:focus,video:focus,summary:focus{outline:3px solid #f0a500;outline-offset:1px}
        figure.player{margin:0}figure.player figcaption{color:#555;font-size:.9em}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:2}
        .top{display:flex;flex-wrap:wrap;align-items:center;gap:16px;padding:10px 20px;background:#17263d;color:#fff}
        .top a{color:#fff;text-decoration:none}.brand{font-weight:700;font-size:18px;letter-spacing:.5px}
        .top nav{flex:1;min-width:0;display:flex;flex-wrap:wrap;gap:4px 14px}
        .signout{display:flex;gap:8px;align-items:center;margin:0}.who{opacity:.85;font-size:13px;word-break:break-all}
        main{max-width:1200px;margin:0 auto;padding:16px 20px}
        h1{font-size:22px;margin:8px 0 14px;word-break:break-all}h2{font-size:17px;margin:18px 0 8px}
        .card{background:#fff;border:1px solid #d8dee8;border-radius:6px;padding:18px 22px}
        .narrow{max-width:420px;margin:40px auto}
        label{display:block;font-weight:600;margin:10px 0 4px}
        input{width:100%;padding:7px 9px;border:1px solid #aab4c3;border-radius:4px;font:inherit}
        button,.button{display:inline-block;padding:7px 14px;border:1px solid #1452a8;border-radius:4px;background:#1452a8;color:#fff;font:inherit;cursor:pointer;text-decoration:none}
        .signout button{background:transparent;border-color:#8ea3c2;padding:4px 10px}
        .danger{background:#b3261e;border-color:#b3261e}
        form#signin button{margin-top:14px;width:100%}
        .filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end;background:#fff;border:1px solid #d8dee8;border-radius:6px;padding:10px 12px}
        .filters div{flex:1 1 180px}.filters label{margin-top:0}
        .scroll{overflow-x:auto}
        table.list{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d8dee8}
        .list th,.list td{text-align:left;padding:6px 9px;border-bottom:1px solid #e6eaf0;vertical-align:top}
        .list th{background:#eef2f7;font-size:13px}
        td.key,h1.key,li.key{word-break:break-all}.num,.list td.num{text-align:right;white-space:nowrap}
        .facts th{text-align:left;padding:4px 14px 4px 0;color:#4a5568;font-weight:600;vertical-align:top}
        .facts td{overflow-wrap:anywhere}
        .badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;background:#e2e8f0;margin:1px 0}
        .badge.COMPLETED,.badge.ONLINE{background:#d3f0dc}.badge.OFFLINE{background:#e2e8f0}.badge.FAILED{background:#f8d3d0}.badge.PENDING{background:#fdf0c4}
        .muted{color:#66758a;font-size:13px}
        .error{color:#b3261e;overflow-wrap:anywhere}.notice{background:#e3f1ff;border:1px solid #b6d6f5;padding:8px 12px;border-radius:4px}
        .folders{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:8px}
        .folders a{display:inline-block;padding:4px 10px;background:#fff;border:1px solid #d8dee8;border-radius:4px}
        .crumbs{font-size:13px;margin-top:4px;word-break:break-all}
        video{display:block;width:100%;max-width:800px;max-height:60vh;background:#000;border-radius:4px;margin:6px 0 12px}
        .actions{display:flex;flex-wrap:wrap;gap:10px;align-items:center}.inline{display:inline-flex;gap:8px;align-items:center;margin:0}
        .inline-label{display:inline;margin:0}select{max-width:100%;padding:6px 8px;border:1px solid #aab4c3;border-radius:4px;font:inherit}
        .pager{display:flex;justify-content:space-between;margin-top:12px}
        div.flag{display:flex;align-items:center;gap:8px;margin:10px 0 4px}div.flag input{width:auto}div.flag label{margin:0}
        textarea{width:100%;padding:7px 9px;border:1px solid #aab4c3;border-radius:4px;font:13px/1.4 ui-monospace,monospace}
        .field-hint{margin:2px 0 0}[aria-invalid=true]{border-color:#b3261e;outline:2px solid #b3261e}
        fieldset.grant{border:1px solid #d8dee8;border-radius:4px;margin:10px 0;padding:6px 12px 10px}fieldset.grant legend{font-weight:600}
        label.check{display:inline-flex;align-items:center;gap:5px;font-weight:400;margin:8px 14px 0 0}label.check input{width:auto}
        fieldset.part{border:1px solid #d8dee8;border-radius:4px;margin:12px 0;padding:4px 12px 10px;min-width:0}fieldset.part legend{font-weight:600}
        @media (max-width:600px){#recordings th:nth-child(3),#recordings td:nth-child(3),#recordings th:nth-child(6),#recordings td:nth-child(6){display:none}}
        """

    /// Small and optional: the pages work without it (forms post, links navigate). It asks before
    /// a delete and tells when a video cannot be played.
    static let javascript = """
        'use strict';
        document.querySelectorAll('form[data-confirm]').forEach(function (form) {
          form.addEventListener('submit', function (event) {
            if (!window.confirm(form.getAttribute('data-confirm'))) { event.preventDefault(); }
          });
        });
        // A menu that picks which fields a form shows (a tier's type) loads them as soon as it changes.
        document.querySelectorAll('select[data-submit-on-change]').forEach(function (select) {
          select.addEventListener('change', function () { select.form.submit(); });
        });
        var player = document.getElementById('player');
        if (player) {
          player.addEventListener('error', function () {
            var note = document.createElement('p');
            note.className = 'error';
            note.setAttribute('role', 'alert');
            note.textContent = 'This recording cannot be played here; download it instead.';
            player.insertAdjacentElement('afterend', note);
          });
        }
        """
}
