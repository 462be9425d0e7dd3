"""One package per integration, ``xdrconf.core.integrations.<package>`` (the package named by
its catalog entry), exposing ``SPEC``: its fields, wizard pages and operations. Helpers of
one integration live in its package; no integration imports another (shared pieces:
``integrations.common``). The engine (xdrconf.core.engine) runs the operations; the window
and the command line are generated from the spec, so a check-only integration needs no
file in ``qt/`` or ``cli/``:

    from ...catalog import IntegrationSpec, Page
    from ...engine import OpContext, check_operation
    from ...fields import Field
    from ...outcome import Category, Outcome
    from ..common import TRUST_FIELDS, trust_page

    def check(ctx: OpContext) -> list[Outcome]:
        token = ctx.require_secret("token", header=True)
        r = ctx.http().get(f"{ctx.settings['url']}/api/whoami", headers={"X-Token": token},
                           meaning={403: (Category.AUTH_FAILED, "The token was refused{quote}.")})
        try:
            name = str(r.json()["name"])
        except (ValueError, KeyError, TypeError):
            ctx.fail(Category.PROTOCOL_ERROR, "The answer is not the product's API; check the URL.")
        return [Outcome(Category.OK, f"Connected as '{name}'.")]

    SPEC = IntegrationSpec(
        kind="redmine", title="Redmine", description="…",
        fields=(Field("url", "URL", kind="url", required=True),
                Field("token", "API key", kind="secret", header=True, required=True), *TRUST_FIELDS),
        pages=(Page("Redmine", "Where it is and its key.", ("url", "token")), trust_page("Redmine")),
        operations=(check_operation(check),),
        target_fields=("url",),
    )

``target_fields`` name what says where the secrets go (host, port, URL; nothing else): a
change of them while secrets stay stored needs the secrets given again or a confirmation
(the rule: xdrconf.core.targets; ``secret_target`` when one secret goes somewhere more
precise, like KATA's key of one connection).
"""
