"""Redmine: the tenant's issue tracker. Kaspersky Next XDR Expert responds to alerts and
incidents by creating issues in a Redmine project through its REST API, with the API key of
a Redmine user. The check proves more than a valid key: that the project exists, takes
issues (issue tracking on, the tracker there) and that the key's user may add them.
Wire facts: shared/INTEGRATIONS.md; the REST calls: api.py; the fields: settings.py."""

from __future__ import annotations

from ...catalog import IntegrationSpec, Page
from ...engine import Operation, check_operation
from ...fields import Field
from ...i18n import N_
from ..common import trust_page
from . import api
from .settings import FIELDS, parse_subject, validate

TITLE = N_("Redmine")

SPEC = IntegrationSpec(
    kind="redmine",
    title=TITLE,
    description=N_(
        "Redmine, the tenant's issue tracker: XDR responds to alerts and incidents by creating "
        "issues in a Redmine project, as the user whose API key is given here."
    ),
    fields=FIELDS,
    pages=(
        Page(
            N_("Redmine — server and API key"),
            N_(
                "XDR creates issues from alerts and incidents in this Redmine, as the user whose API "
                "key you enter. The key goes in the X-Redmine-API-Key header, over https."
            ),
            ("url", "allow_http", "api_key"),
        ),
        # Before the project: Choose… beside the project talks to Redmine and needs the trust.
        trust_page("Redmine"),
        Page(
            N_("Redmine — project"),
            N_(
                "The project the issues go to and their tracker. The check proves that the project "
                "takes issues and that the key's user may add them."
            ),
            ("project", "tracker"),
        ),
    ),
    operations=(
        check_operation(
            api.check,
            description=N_(
                "Prove the API key, that the project exists and takes issues with the tracker, that "
                "issue statuses and priorities are readable and that the user may add issues "
                "(read-only)."
            ),
        ),
        Operation(
            "create-issue",
            N_("Create issue"),
            api.create_issue,
            params=(
                Field(
                    "subject",
                    N_("Subject"),
                    required=True,
                    parser=parse_subject,
                    help=N_("The issue's subject (one line, at most 255 characters)."),
                ),
                Field(
                    "description",
                    N_("Description"),
                    multiline=True,
                    help=N_("The issue's description (optional)."),
                ),
            ),
            description=N_(
                "Create an issue in the configured project and tracker, as XDR would; shows its "
                "number and URL."
            ),
            changes_peer=True,
            timeout_steps=3,
        ),
        Operation(
            "projects",
            N_("List projects"),
            api.projects,
            description=N_("The projects the API key can see, to pick the project from."),
            needs=("api_key",),
            needs_fields=("url",),
            columns=(
                ("identifier", N_("Identifier")),
                ("name", N_("Name")),
                ("id", N_("ID")),
                ("note", N_("Note")),
            ),
        ),
    ),
    validate=validate,
    target_fields=("url",),
)
