"""A demo integration for xdrconf as an integration's author writes one: one module with its
fields, pages and operations (a check of a few lines through the request helper, and one
read-only operation), no Qt and no command-line code. Installed as a plugin: the entry point
``demo = xdrconf_demo`` of the group ``xdrconf.integrations`` (its .dist-info beside it).
Its peer is tests/plugins/e2e_demo.py's DemoApi."""

from __future__ import annotations

from xdrconf.core.catalog import IntegrationSpec, Page
from xdrconf.core.engine import OpContext, Operation, check_operation
from xdrconf.core.fields import Field
from xdrconf.core.integrations.common import TRUST_FIELDS, trust_page
from xdrconf.core.outcome import Category, Outcome


def _get(ctx: OpContext, path: str) -> object:
    token = ctx.require_secret("token", header=True)
    r = ctx.http().get(
        f"{ctx.settings['url']}{path}",
        headers={"X-Token": token},
        meaning={403: (Category.AUTH_FAILED, "The demo refused the API key{quote}.")},
    )
    try:
        return r.json()
    except ValueError:
        ctx.fail(Category.PROTOCOL_ERROR, "The answer is not the demo's API; check the URL.")


def check(ctx: OpContext) -> list[Outcome]:
    data = _get(ctx, "/api/whoami")
    if not isinstance(data, dict) or "name" not in data:
        ctx.fail(Category.PROTOCOL_ERROR, "The answer is not the demo's API; check the URL.")
    return [Outcome(Category.OK, f"Connected as '{data['name']}'.")]


def projects(ctx: OpContext) -> list[Outcome]:
    data = _get(ctx, "/api/projects")
    rows = [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []
    return [Outcome(Category.OK, f"{len(rows)} project(s).", data=rows)]


SPEC = IntegrationSpec(
    kind="demo",
    title="Demo tracker",
    description="A demo issue tracker (a plugin).",
    fields=(
        Field("url", "URL", kind="url", required=True, help="The tracker's address."),
        Field("token", "API key", kind="secret", required=True, help="Kept in the OS keyring."),
        *TRUST_FIELDS,
    ),
    pages=(Page("Demo tracker", "Where it is and its key.", ("url", "token")), trust_page("the tracker")),
    operations=(
        check_operation(check),
        Operation(
            "projects",
            "List projects",
            projects,
            description="The projects the API key can see.",
            columns=(("id", "ID"), ("name", "Name")),
        ),
    ),
    target_fields=("url",),
)
