"""The OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator), covering exactly the admin
and Vault operations the server answers (`depot routes` lists them from the routers' own
tables); served at /openapi.json and /api/openapi.json."""
import requests
from openapi_spec_validator import validate

from conftest import run_depot

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def test_document_is_valid_and_matches_the_routes(depot):
    document = requests.get(depot.endpoint + "/openapi.json", timeout=10).json()
    validate(document)
    assert requests.get(depot.endpoint + "/api/openapi.json", timeout=10).json() == document
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item if method in METHODS}
    served = set(run_depot("routes", check=True).stdout.split("\n")) - {""}
    assert served - documented == set(), f"served but not documented: {sorted(served - documented)}"
    assert documented - served == set(), f"documented but not served: {sorted(documented - served)}"
    # Every operation has an id, a summary, a tag and at least one response.
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                assert operation.get("operationId") and operation.get("summary") and operation.get("tags"), (method, path)
                assert operation.get("responses"), (method, path)
    assert document["externalDocs"]["url"].startswith("https://docs.aws.amazon.com")


def test_documented_examples_are_accepted(depot):
    """The tier and policy examples in the document are real configurations the API takes."""
    from admin_client import Admin
    document = requests.get(depot.endpoint + "/openapi.json", timeout=10).json()
    admin = Admin(depot.endpoint)
    tier = dict(document["components"]["schemas"]["Tier"]["example"])
    status, body = admin.put("/admin/v1/tiers/cloud", tier)
    assert status == 201, body
    policy = dict(document["components"]["schemas"]["Policy"]["example"])
    policy.pop("name")
    status, body = admin.put("/admin/v1/policies/front-door", policy)
    assert status == 201, body
