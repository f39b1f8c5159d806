"""The JSON API described and fuzzed: /api/openapi.json describes every /api/ route, and schemathesis,
driven by that document, finds no 5xx, no answer outside the document, and no hidden note's name, for a
visitor and for a practitioner's bearer token, on a live gunicorn serving its own copy of the site."""
import re
import shutil
import types

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from kb import access
from kb.web.openapi import SPEC

from .conftest import site_config
from .liveserver import Server, site_env
from .test_feeds import NOTES, TAX

READERS = {"anonymous": None,
           "pat": types.SimpleNamespace(is_authenticated=True, active=True, username="pat", role="practitioner",
                                        regions=[])}
HIDDEN = {name: sorted(s for s, n in NOTES.items() if not access.can_read(user, n.meta, TAX))
          for name, user in READERS.items()}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def test_every_api_route_is_described_with_its_methods(app, client):
    served = client.get("/api/openapi.json")
    assert served.status_code == 200 and served.get_json() == SPEC
    assert SPEC["openapi"].startswith("3.1")
    routes = {(_openapi_path(r.rule), m.lower()) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, item in SPEC["paths"].items() for method in item
                 if method in ("get", "put", "post", "delete", "patch")}
    assert routes == described
    for path, method in described:
        op = SPEC["paths"][path][method]
        assert "200" in op["responses"] or "201" in op["responses"], (path, method)
        params = {p["name"] for p in SPEC["paths"][path].get("parameters", []) + op.get("parameters", [])
                  if p["in"] == "path"}
        assert params == set(re.findall(r"{([^}]+)}", path)), path


def test_the_documented_errors_are_the_one_json_shape(client):
    schema = SPEC["components"]["schemas"]["Error"]
    for resp in (client.get("/api/notes/no-such-note"), client.post("/api/notes", json={}),
                 client.get("/api/notes/x", headers={"Authorization": "Bearer nope"})):
        body = resp.get_json()
        assert set(body) == set(schema["required"]) and body["error"]["status"] == resp.status_code
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.fixture(scope="module")
def live(site_template, tmp_path_factory):
    """gunicorn on its own copy of the site (writes land there only), and a bearer token for pat."""
    root = tmp_path_factory.mktemp("fuzzsite") / "site"
    shutil.copytree(site_template, root, symlinks=True)
    from kb import create_app
    app = create_app(site_config(root))
    token = app.extensions["kb.users"].create_token("pat")[1]
    app.extensions["kb.wiki"].close()
    app.extensions["kb.users"].dispose()
    with Server(site_env(root), workers=1, log=root / "server.log").start("/api/search") as server:
        yield server, {"anonymous": {}, "pat": {"Authorization": f"Bearer {token}"}}


def no_hidden_note(reader: str):
    def check(ctx, response, case):
        text = response.text
        leaked = [slug for slug in HIDDEN[reader] if slug in text]
        if leaked:
            raise AssertionError(f"{reader} was shown hidden notes: {leaked}")
    return check


CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance, st_checks.content_type_conformance,
          st_checks.response_schema_conformance]
schema = schemathesis.openapi.from_dict(SPEC)


@pytest.mark.parametrize("reader", sorted(READERS))
@schema.parametrize()
@settings(max_examples=15, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_description_and_its_secrets(case, live, reader):
    server, headers = live
    case.call_and_validate(base_url=server.url, headers=headers[reader], checks=CHECKS,
                           additional_checks=[no_hidden_note(reader)], timeout=20)
