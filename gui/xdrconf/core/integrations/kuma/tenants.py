"""KUMA's tenants as a tree of xdrconf tenants (`xdrconf tenant import-from-kuma`, the
window's "Import tenants from KUMA…").

The operation "tenants" reads every page of `GET /api/<version>/tenants` (250 a page, from
page 1; a short or empty page is the last) with the tenant's KUMA connection, through the
engine. `plan` then says, for each KUMA tenant, what an import under a parent tenant does:

- add it as a child of the parent, recording its KUMA id in the new tenant;
- it is already there: a tenant records its id, or a child of the parent has its name and
  records no id yet (the id is recorded in it);
- KUMA's main tenant maps onto the Root tenant and its shared tenant onto the Shared one
  (their ids are recorded there);
- skipped, with the reason: a name xdrconf cannot use, the same id listed twice, a second
  KUMA tenant of the same name, a child of that name standing for another KUMA tenant.

`apply` adds the chosen ones in one workspace transaction, so running the import again
adds nothing new. Wire facts: shared/INTEGRATIONS.md (KUMA tenants)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ...engine import Operation
from ...errors import TenantError, ValidationError
from ...i18n import N_, _, ngettext
from ...outcome import Category, Outcome
from ...tenants import validate_kuma_id, validate_name
from .api import REFUSED, _session, base_url, every_page

if TYPE_CHECKING:
    from ...engine import OpContext
    from ...workspace import Workspace

PAGE_SIZE = 250  # KUMA's page size for GET tenants [doc]
MAX_PAGES = 400  # 100,000 tenants: beyond that KUMA is not answering as documented
KEYS = ("id", "name", "main", "shared", "description")

ADD = "add"
ADDED = "added"
ALREADY = "already"
MAPPED = "mapped"
SKIPPED = "skipped"


# ---- the operation --------------------------------------------------------------------------------
def list_tenants(ctx: OpContext) -> list[Outcome]:
    """Every KUMA tenant the token's user can see: id, name, main, shared, description."""
    session, headers = _session(ctx)

    def fetch(page: int) -> list[dict[str, Any]]:
        r = session.get(
            f"{base_url(ctx.settings)}/tenants",
            params={"page": str(page)},
            headers=headers,
            meaning=REFUSED,
            what=_("list the tenants"),  # within KUMA's refusal texts (kuma.api.REFUSED)
        )
        return _tenant_list(ctx, session.target, r, page)

    rows, page = every_page(
        ctx,
        fetch,
        max_pages=MAX_PAGES,
        too_many=_(
            "KUMA kept returning full pages of tenants past page {n}; it does not page as documented."
        ).format(n=MAX_PAGES),
        repeated=lambda page: _(
            "KUMA answered page {page} with the tenants of an earlier page; it does not page "
            "as documented (check the API version)."
        ).format(page=page),
    )
    return [
        Outcome(
            Category.OK,
            ngettext(
                "KUMA lists {n} tenant ({pages} page read).",
                "KUMA lists {n} tenants ({pages} pages read).",
                len(rows),
            ).format(n=len(rows), pages=page),
            data={"rows": rows, "pages": page},
        )
    ]


def _tenant_list(ctx: OpContext, target: str, response: Any, page: int) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if data is None and not response.content.strip():
        return []
    if not isinstance(data, list) or not all(
        isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("name"), str) for t in data
    ):
        ctx.fail(
            Category.PROTOCOL_ERROR,
            _(
                "{target} answered page {page} with something other than KUMA's list of tenants; "
                "check that host, port and API version point to the KUMA REST API."
            ).format(target=target, page=page),
        )
    return [
        {
            "id": t["id"],
            "name": t["name"],
            "main": bool(t.get("main")),
            "shared": bool(t.get("shared")),
            "description": str(t.get("description") or "")[:1000],
        }
        for t in data
    ]


OPERATION = Operation(
    "tenants",
    N_("List KUMA tenants"),
    list_tenants,
    description=N_(
        "Read every KUMA tenant the token's user can see (all pages); 'xdrconf tenant "
        "import-from-kuma' adds them as child tenants."
    ),
    columns=(("name", N_("Name")), ("id", N_("ID")), ("main", N_("Main")), ("shared", N_("Shared"))),
)


# ---- the plan -------------------------------------------------------------------------------------
@dataclass
class Item:
    """What an import does with one KUMA tenant."""

    id: str
    name: str
    status: str  # add | added | already | mapped | skipped
    path: str = ""  # the xdrconf tenant it is (or becomes)
    reason: str = ""  # for skipped; for already/mapped: what is recorded
    link: str | None = None  # an existing tenant's id that gets the KUMA id recorded
    main: bool = False
    shared: bool = False
    description: str = ""

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("link")
        return out


@dataclass
class Plan:
    parent: str  # the parent tenant's path
    parent_id: str
    items: list[Item]
    dry_run: bool = False

    def of(self, status: str) -> list[Item]:
        return [i for i in self.items if i.status == status]

    def public(self) -> dict[str, Any]:
        return {
            "tenant": self.parent,
            "dry_run": self.dry_run,
            "added": [i.public() for i in self.of(ADDED) + self.of(ADD)],
            "already": [i.public() for i in self.of(ALREADY)],
            "mapped": [i.public() for i in self.of(MAPPED)],
            "skipped": [i.public() for i in self.of(SKIPPED)],
        }


def plan(ws: Workspace, parent_ref: str, rows: list[dict[str, Any]]) -> Plan:
    """What importing KUMA's tenants `rows` under the tenant `parent_ref` would do."""
    tree = ws.tree
    parent = tree.find(parent_ref)
    if parent.is_shared:
        raise TenantError(_("The Shared tenant cannot have child tenants."))
    parent_path = tree.path(parent.id)
    children = {c.name.lower(): c for c in tree.children(parent.id)}
    seen_ids: set[str] = set()
    new_names: set[str] = set()
    items: list[Item] = []
    for row in rows:
        raw_id, raw_name = str(row.get("id", "")), str(row.get("name", ""))
        item = Item(
            raw_id,
            raw_name,
            SKIPPED,
            main=bool(row.get("main")),
            shared=bool(row.get("shared")),
            description=str(row.get("description") or ""),
        )
        items.append(item)
        try:
            kuma_id = validate_kuma_id(raw_id)
        except ValidationError as exc:
            item.reason = exc.problem
            continue
        if kuma_id in seen_ids:
            item.reason = _("KUMA listed this tenant twice")
            continue
        seen_ids.add(kuma_id)
        holder = tree.by_kuma_id(kuma_id)
        if item.main or item.shared:
            target = tree.root if item.main else tree.shared
            item.path = tree.path(target.id)
            if holder is not None and holder.id != target.id:
                item.reason = _(
                    "KUMA's {which} tenant, but the tenant '{path}' already stands for it"
                ).format(which=_("main") if item.main else _("shared"), path=tree.path(holder.id))
                continue
            if target.kuma_id not in (None, kuma_id):
                item.reason = _("the tenant '{path}' already stands for the KUMA tenant {id}").format(
                    path=item.path, id=target.kuma_id
                )
                continue
            item.status = MAPPED
            if target.kuma_id is None:
                item.link = target.id
            continue
        if holder is not None:
            item.status, item.path = ALREADY, tree.path(holder.id)
            continue
        try:
            name = validate_name(raw_name)
        except ValidationError as exc:
            item.reason = exc.problem
            continue
        same = children.get(name.lower())
        if same is not None:
            item.path = tree.path(same.id)
            if same.kuma_id is not None:
                item.reason = _("'{path}' already stands for another KUMA tenant ({id})").format(
                    path=item.path, id=same.kuma_id
                )
                continue
            item.status, item.link = ALREADY, same.id
            continue
        if name.lower() in new_names:
            item.reason = _("another KUMA tenant of the same name is added")
            continue
        new_names.add(name.lower())
        item.name, item.status, item.path = name, ADD, f"{parent_path}/{name}"
    return Plan(parent_path, parent.id, items)


def apply(ws: Workspace, parent_ref: str, rows: list[dict[str, Any]], chosen: set[str] | None = None) -> Plan:
    """Import under `parent_ref`, in one transaction, the KUMA tenants to add (those in
    `chosen`, by KUMA id, when given), recording each KUMA id; the ids of the tenants
    already there and of Root and Shared are recorded too. Planned again here, so that
    what changed since a preview is taken into account."""
    from ...workspace import NewTenant

    result = plan(ws, parent_ref, rows)
    adding = [i for i in result.of(ADD) if chosen is None or i.id in chosen]
    link = {i.link: i.id for i in result.items if i.link is not None and i.status in (ALREADY, MAPPED)}
    if not adding and not link:
        return result
    added = ws.add_tenants([NewTenant(i.name, result.parent_id, i.id) for i in adding], link=link)
    for item, tenant in zip(adding, added, strict=True):
        item.status, item.path = ADDED, ws.tree.path(tenant.id)
    for item in result.of(ADD):
        item.status, item.reason = SKIPPED, _("not chosen")
    return result
