"""The settings of the Redmine integration: the fields, their parsers and the rules across
fields (http only when chosen, and then without TLS settings that could not apply)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ...catalog import ValidationContext
from ...errors import ValidationError
from ...fields import ChoicesFrom, Field, parse_url
from ...i18n import N_, _
from ..common import TLS_CA, TLS_PIN, TRUST_FIELDS

API_KEY_HEADER = "X-Redmine-API-Key"
SUBJECT_MAX = 255  # Redmine's limit for an issue's subject
TRACKER_NAME_MAX = 30  # Redmine's limit for a tracker's name
IDENTIFIER_MAX = 100  # Redmine's limit for a project's identifier
# A project identifier as Redmine 5 allows it: lower-case letters, digits, - and _, not
# digits only (that is a numeric id).
_IDENTIFIER = re.compile(r"^[a-z0-9_-]{1,100}$")
# Path segments of Redmine's own pages: a URL with one of them was copied from a page,
# not the base URL.
_PAGES = ("projects", "issues", "my", "login", "users", "admin", "settings")

URL_LABEL = N_("URL")
ALLOW_HTTP_LABEL = N_("Allow plain HTTP")
API_KEY_LABEL = N_("API key")
PROJECT_LABEL = N_("Project")
TRACKER_LABEL = N_("Tracker")


def parse_redmine_url(text: str, label: str) -> str:
    """Redmine's base URL (https, or http when chosen; a path prefix such as /redmine
    allowed), without a trailing slash, a query or a page of Redmine's."""
    value = parse_url(text, label, schemes=("https", "http"))
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ValidationError(
            label,
            _(
                "must not contain a query (?…) or a fragment (#…): enter Redmine's base URL; the "
                "API key goes in its own field"
            ),
            field="url",
        )
    segments = [s for s in parts.path.split("/") if s]
    for i, segment in enumerate(segments):
        if segment in _PAGES:
            base = parts._replace(path="/".join(["", *segments[:i]])).geturl().rstrip("/")
            raise ValidationError(
                label,
                _(
                    "'{text}' is the address of a page of Redmine; enter its base URL ({base}) and "
                    "the project in its own field"
                ).format(text=value, base=base),
                field="url",
            )
    return value


def parse_project(text: str, label: str) -> str:
    """A project's identifier (soc-alerts) or numeric id (as text). A pasted project page
    URL (…/projects/soc-alerts/issues) gives its identifier."""
    value = str(text).strip()
    if not value:
        raise ValidationError(
            label, _("enter the project's identifier (as in its URL) or its numeric id"), field="project"
        )
    pasted = re.search(r"/projects/([^/?#]+)", value)
    if pasted:
        value = pasted.group(1)
    if value.isdigit():
        if int(value) == 0:
            raise ValidationError(label, _("0 is not a project id"), field="project")
        return str(int(value))
    if len(value) > IDENTIFIER_MAX:
        raise ValidationError(
            label,
            _("a project identifier is at most {n} characters long").format(n=IDENTIFIER_MAX),
            field="project",
        )
    if not _IDENTIFIER.match(value):
        raise ValidationError(
            label,
            _(
                "'{text}' is not a project identifier: identifiers are lower-case letters, digits, - and "
                "_ (e.g. soc-alerts), as in the project's URL; a project's name is not accepted"
            ).format(text=value),
            field="project",
        )
    return value


def parse_tracker(text: str, label: str) -> str | None:
    """A tracker's name (Bug) or numeric id (as text); empty: the project's default."""
    value = str(text).strip()
    if not value:
        return None
    if "\n" in value:
        raise ValidationError(label, _("must be a single line"), field="tracker")
    if value.isdigit():
        return str(int(value))
    if len(value) > TRACKER_NAME_MAX:
        raise ValidationError(
            label,
            _("a tracker's name is at most {n} characters long").format(n=TRACKER_NAME_MAX),
            field="tracker",
        )
    return value


def parse_subject(text: str, label: str) -> str:
    value = str(text).strip()
    if not value:
        raise ValidationError(label, _("enter the issue's subject"), field="subject")
    if "\n" in value:
        raise ValidationError(label, _("must be a single line"), field="subject")
    if len(value) > SUBJECT_MAX:
        raise ValidationError(
            label,
            _("is {n} characters long; Redmine takes at most {limit}").format(
                n=len(value), limit=SUBJECT_MAX
            ),
            field="subject",
        )
    return value


def is_http(settings: dict[str, Any]) -> bool:
    return urlsplit(str(settings.get("url") or "")).scheme == "http"


def validate(settings: dict[str, Any], _vctx: ValidationContext | None = None) -> None:
    """http only when chosen (the API key would travel in clear), and then no CA or pin,
    which would not be used."""
    if not is_http(settings):
        return
    if not settings.get("allow_http"):
        raise ValidationError(
            URL_LABEL,
            _(
                "starts with http://, which sends the API key unencrypted; use https://, or tick "
                "'{allow}' if this Redmine has no TLS"
            ).format(allow=ALLOW_HTTP_LABEL),
            field="url",
        )
    for f in (TLS_CA, TLS_PIN):
        if settings.get(f.name):
            raise ValidationError(
                f.label,
                _("has no effect with an http:// URL (there is no TLS); clear it, or use https://"),
                field=f.name,
            )


FIELDS = (
    Field(
        "url",
        URL_LABEL,
        kind="url",
        required=True,
        parser=parse_redmine_url,
        help=N_(
            "Redmine's address as you open it in a browser, with its path prefix if it has one "
            "(https://redmine.example.invalid or https://example.invalid/redmine)."
        ),
        placeholder="https://redmine.example.invalid",
    ),
    Field(
        "allow_http",
        ALLOW_HTTP_LABEL,
        kind="bool",
        default=False,
        help=N_(
            "Only for a Redmine without TLS on a network you trust: with an http:// URL the API key "
            "and the issues travel unencrypted. Every check then warns about it."
        ),
        extra={"text": N_("Send the API key over plain HTTP (unencrypted)")},
    ),
    Field(
        "api_key",
        API_KEY_LABEL,
        kind="secret",
        header=True,
        required=True,
        help=N_(
            "The API key of the Redmine user that XDR creates issues as: in Redmine, My account → "
            "API access key → Show. It is sent in the X-Redmine-API-Key header only and kept in "
            "the secret store, never in the settings file."
        ),
    ),
    Field(
        "project",
        PROJECT_LABEL,
        required=True,
        parser=parse_project,
        help=N_(
            "The project the issues go to: its identifier, as in its URL (…/projects/soc-alerts), or "
            "its numeric id. Choose… lists the projects the API key can see."
        ),
        placeholder="soc-alerts",  # i18n: ignore (an identifier)
        choices_from=ChoicesFrom("projects", "identifier", ("name", "note")),
    ),
    Field(
        "tracker",
        TRACKER_LABEL,
        parser=parse_tracker,
        help=N_(
            "The tracker of the issues (e.g. Bug), by name or numeric id. Leave it empty for the "
            "project's first tracker."
        ),
        placeholder="Bug",  # i18n: ignore (Redmine's tracker name)
    ),
    *TRUST_FIELDS,
)
