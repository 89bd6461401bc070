"""The README's admin API table (the block after `<!-- table: admin-routes -->` in "Admin API,
OpenAPI, metrics, logs") names exactly the admin routes `depot routes` lists, each once, so a route
added, renamed or removed without its README row fails here. That every route needs the `admin`
action, as the table's account column says, test_authorization_admin_routes checks on a server."""
import os
import re

from conftest import REPO, run_depot

MARKER = "<!-- table: admin-routes -->"
ROW = re.compile(r"^\| (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \| `(/[^`]*)` \| ([^|]+) \| ([^|]+) \|$")


def readme_table():
    """[(method, path, what it does, account)] of the table's rows; every line of the table must be a row."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    assert text.count(MARKER) == 1, f"README.md must hold {MARKER} once, before the admin API table"
    lines = text.split(MARKER, 1)[1].lstrip("\n").split("\n")
    assert lines[0] == "| method | path | what it does | account |" and lines[1] == "|---|---|---|---|", lines[:2]
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        match = ROW.match(line)
        assert match, f"README admin table row not in the form | METHOD | `path` | what | account |: {line}"
        rows.append(tuple(part.strip() for part in match.groups()))
    return rows


def listed_admin_routes():
    result = run_depot("routes", check=True)
    return [tuple(line.split(" ", 1)) for line in result.stdout.splitlines() if " /admin/" in line]


def test_the_readme_table_names_every_admin_route_and_no_other():
    rows = readme_table()
    documented = [(method, path) for method, path, _, _ in rows]
    listed = listed_admin_routes()
    assert len(listed) >= 30, listed
    assert len(documented) == len(set(documented)), f"rows named twice: {sorted({r for r in documented if documented.count(r) > 1})}"
    missing = sorted(set(listed) - set(documented))
    unknown = sorted(set(documented) - set(listed))
    assert not missing, f"routes `depot routes` lists that README's admin table lacks: {missing}"
    assert not unknown, f"README's admin table names routes that do not exist: {unknown}"


def test_every_row_says_what_it_does_and_that_it_needs_the_admin_action():
    for method, path, what, account in readme_table():
        assert len(what) >= 6, (method, path, what)
        assert account == "admin", (method, path, account)
