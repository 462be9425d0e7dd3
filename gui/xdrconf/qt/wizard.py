"""The tenant wizard: an opening page (the tenant, which integrations to set up), the
pages of each chosen integration, then a summary of what will change. Finish applies
every change at once (Workspace.update_integrations in a worker); Cancel changes nothing.

Form pages are generated from the integration's spec (SpecFormPage) unless the
integration's Qt module supplies its own (see xdrconf.qt.integrations). Every integration
ends with a closing page: the on/off toggle, the spec's check notice and "Check connection"."""

from __future__ import annotations

import dataclasses
import html
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ..core import catalog
from ..core.catalog import Page, SeeAlso, ValidationContext
from ..core.errors import OperationFailed, SecretsWouldFollow, ValidationError, XdrconfError
from ..core.i18n import _
from . import integrations, workers
from .checks_ui import CheckConnectionBox
from .dialogs import Prompts, error_text, show_error
from .editors import HELP_STYLE, REASON_STYLE, FieldEditor, FieldsForm
from .integrations import IntegrationDraft, IntegrationUiContext

if TYPE_CHECKING:
    from ..core.workspace import Workspace

log = logging.getLogger(__name__)
MIN_WIZARD_SIZE = (680, 540)  # every page stays usable down to this size


class SpecFormPage(QWizardPage):
    """A form page generated from one core Page of an integration's spec. The spec's texts
    (page title and subtitle here; field labels, help, placeholders and choices in the
    editors) are translated when shown: an integration marks them with N_() in its spec and
    puts their Russian in the catalog; nothing in qt/ is needed."""

    def __init__(self, ctx: IntegrationUiContext, page: Page, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert ctx.draft is not None
        self.ctx = ctx
        self.draft = ctx.draft
        self.core_page = page
        self.setTitle(_(page.title))
        self.setSubTitle(_(page.subtitle) if page.subtitle else "")
        outer = QVBoxLayout(self)
        self.form = FieldsForm(ctx, page.fields, self)
        self.editors = self.form.editors
        self.reasons = self.form.reasons
        self.about: QLabel | None = None
        if page.about:
            self.about = QLabel(_(page.about), self)
            self.about.setObjectName("pageAbout")
            self.about.setWordWrap(True)
            self.about.setContentsMargins(0, 0, 0, 6)
            outer.addWidget(self.about)
        # The integrations this one depends on (the spec's SeeAlso), on its first page.
        self.related: RelatedBox | None = None
        if ctx.spec.see_also and ctx.spec.pages and page is ctx.spec.pages[0]:
            self.related = RelatedBox(ctx, ctx.spec.see_also, self)
            outer.addWidget(self.related)
        if "tls_pin_sha256" in page.fields:
            self.fetch_box = FetchCertificateBox(ctx, self.editors["tls_pin_sha256"], self)
            self.form.add_widget(self.fetch_box)
        outer.addWidget(self.form)
        outer.addStretch(1)
        self.form.validity_changed.connect(self.completeChanged.emit)

    def problems(self) -> dict[str, str]:
        return self.form.problems()

    def isComplete(self) -> bool:
        return not self.form.problems()

    def validatePage(self) -> bool:
        # QWizard.next() called from code does not look at isComplete(): refuse here too.
        return not self.form.problems()


class RelatedBox(QLabel):
    """On the first page of an integration that works with others of the tenant (the spec's
    SeeAlso; the firewalls' scripts run on the custom integration's host): why, their state,
    and a link that adds them to this wizard, their pages right after this integration's."""

    def __init__(
        self, ctx: IntegrationUiContext, sees: tuple[SeeAlso, ...], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sees = sees
        self.setObjectName("relatedIntegrations")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(0, 4, 0, 10)
        self.linkActivated.connect(self.follow)
        self.update_text()

    def _wizard(self) -> TenantWizard | None:
        wizard = self.wizard_of()
        return wizard if isinstance(wizard, TenantWizard) else None

    def wizard_of(self) -> Any:
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QWizard):
            parent = parent.parentWidget()
        return parent

    def update_text(self) -> None:
        from .integrations_view import see_also_html

        ws, tenant = self.ctx.workspace, self.ctx.tenant
        wizard = self._wizard()
        parts = [see_also_html(ws, tenant, see, link=wizard is not None) for see in self.sees]
        if wizard is not None:
            for kind in (see.kind for see in self.sees):
                if kind in wizard.chosen():
                    title = html.escape(str(catalog.title_of(kind)))
                    if wizard.follows.get(kind) == self.ctx.kind:
                        text = _("{integration}: its pages follow those of {this} in this wizard.")
                    else:
                        text = _("{integration} is set up in this wizard too.")
                    parts.append(text.format(integration=title, this=html.escape(_(self.ctx.spec.title))))
        self.setText("<br>".join(parts))

    def follow(self, href: str) -> None:
        from .integrations_view import see_also_link

        wizard = self._wizard()
        kind = see_also_link(href)
        if wizard is None or kind is None:
            return
        wizard.add_related(kind, self.ctx.kind)
        self.update_text()

    def showEvent(self, event: Any) -> None:
        self.update_text()
        super().showEvent(event)


class FetchCertificateBox(QWidget):
    """'Fetch certificate': a handshake-only connection to the host and port typed so far,
    showing subject, issuer, validity and SHA-256, with 'Pin this certificate'."""

    def __init__(
        self, ctx: IntegrationUiContext, pin_editor: FieldEditor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.pin_editor = pin_editor
        self.info: Any = None
        self.task: workers.Task | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 8, 0, 0)
        row = QHBoxLayout()
        self.button = QPushButton(_("Fetch certificate"), self)
        self.button.setObjectName("fetchButton")
        self.button.clicked.connect(self.fetch)
        # Which server, when the settings name several (KATA: one per connection).
        self.target_combo = QComboBox(self)
        self.target_combo.setObjectName("certTarget")
        self.target_combo.setToolTip(_("The server whose certificate to read"))
        self.target_combo.setVisible(False)
        self.pin_button = QPushButton(_("Pin this certificate"), self)
        self.pin_button.setObjectName("pinButton")
        self.pin_button.clicked.connect(self.pin)
        self.pin_button.setEnabled(False)
        row.addWidget(self.button)
        row.addWidget(self.target_combo)
        row.addWidget(self.pin_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.label = QLabel(_("Reads the server's certificate (TLS handshake only; nothing is sent)."), self)
        self.label.setObjectName("certInfo")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet(HELP_STYLE)
        lay.addWidget(self.label)

    def targets(self) -> list[tuple[str, int]]:
        """The servers the settings entered so far name: the spec's cert_target, host and
        port, the host of a URL, or every connection of a list of connections (KATA)."""
        from ..core.fields import url_host_port

        assert self.ctx.draft is not None
        try:
            settings = self.ctx.draft.settings()
        except XdrconfError:
            return []
        if self.ctx.spec.cert_target is not None:
            found = self.ctx.spec.cert_target(settings)
            if isinstance(found, list):
                return found
            return [found] if found is not None else []
        if settings.get("host") and settings.get("port"):
            return [(str(settings["host"]), int(settings["port"]))]
        if settings.get("url"):
            found = url_host_port(str(settings["url"]))
            return [found] if found is not None else []
        out: list[tuple[str, int]] = []
        for value in settings.values():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and item.get("host") and item.get("port"):
                        out.append((str(item["host"]), int(item["port"])))
        return out

    def update_targets(self) -> None:
        from ..core.fields import host_port

        chosen = self.target_combo.currentData()
        found = self.targets()
        self.target_combo.clear()
        for host, port in found:
            self.target_combo.addItem(host_port(host, port), (host, port))
        if chosen in found:
            self.target_combo.setCurrentIndex(found.index(chosen))
        self.target_combo.setVisible(len(found) > 1)

    def showEvent(self, event: Any) -> None:
        self.update_targets()
        super().showEvent(event)

    def _where(self) -> tuple[str, int]:
        self.update_targets()
        chosen = self.target_combo.currentData()
        if chosen is None:
            raise ValidationError(_("Address"), _("enter the server's address on the earlier page first"))
        host, port = chosen
        return str(host), int(port)

    def fetch(self) -> None:
        from ..core.fields import host_port
        from ..core.net import NetConfig, classify_exception, fetch_certificate
        from ..core.outcome import category_words

        try:
            host, port = self._where()
        except XdrconfError as exc:
            self._say(str(exc), error=True)
            return
        timeout = NetConfig.from_app(self.ctx.workspace.app).timeout
        target = host_port(host, port)
        self.button.setEnabled(False)
        self.pin_button.setEnabled(False)
        self._say(_("Connecting to {target}…").format(target=target))

        def failed(exc: BaseException) -> None:
            self.button.setEnabled(True)
            if isinstance(exc, OperationFailed):  # the spec's own fetch says what went wrong
                self._say(f"{category_words(exc.category)}: {exc}", error=True)
                return
            try:
                category, message = classify_exception(exc, target, timeout)
                self._say(f"{category_words(category)}: {message}", error=True)
            except Exception:  # noqa: BLE001
                self._say(error_text(exc), error=True)

        def done(info: Any) -> None:
            self.button.setEnabled(True)
            self.info = info
            self.pin_button.setEnabled(True)
            self.label.setStyleSheet("")
            lines = [html.escape(line) for line in info.lines() if not line.startswith("SHA-256:")]
            fp = info.fingerprint_display
            half = len(fp) // 2 + 1  # two lines of 16 bytes: a fingerprint has no break points
            lines.append(f"SHA-256: <tt>{fp[:half]}<br>{fp[half:]}</tt>")
            self.label.setText(
                "<br>".join(lines)
                + "<br><i>"
                + html.escape(
                    _(
                        "Compare the fingerprint with the one the server's administrator gives you "
                        "before pinning it."
                    )
                )
                + "</i>"
            )

        own = self.ctx.spec.fetch_certificate  # e.g. AD: StartTLS first on a plain LDAP port
        settings = self._settings()
        self.task = self.ctx.run_in_background(
            (lambda: own(settings, host, port, timeout))
            if own is not None
            else (lambda: fetch_certificate(host, port, timeout)),
            done,
            failed,
            checks=True,
        )

    def _settings(self) -> dict[str, Any]:
        """The settings entered so far (the saved ones where the draft is not acceptable)."""
        assert self.ctx.draft is not None
        try:
            return self.ctx.draft.settings()
        except XdrconfError:
            return dict(self.ctx.draft.stored.settings)

    def pin(self) -> None:
        if self.info is not None:
            self.pin_editor.set_value(self.info.fingerprint_display)
            edit = getattr(self.pin_editor, "edit", None)
            if edit is not None:
                edit.setCursorPosition(0)

    def _say(self, text: str, error: bool = False) -> None:
        self.label.setStyleSheet(REASON_STYLE if error else HELP_STYLE)
        self.label.setText(html.escape(text))


class IntegrationClosingPage(QWizardPage):
    """The last page of an integration: on/off, what is still missing, Check connection."""

    def __init__(self, ctx: IntegrationUiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert ctx.draft is not None
        self.ctx = ctx
        self.draft = ctx.draft
        spec = ctx.spec
        self.setTitle(_("{title} — turn on and check").format(title=spec.title))
        self.setSubTitle(
            _(
                "Nothing is saved until you press Finish. The check uses what you "
                "entered, including secrets typed but not stored yet."
            )
        )
        lay = QVBoxLayout(self)
        self.toggle = QCheckBox(_("Turn {title} on for this tenant").format(title=spec.title), self)
        self.toggle.setObjectName("enableToggle")
        saved = ctx.tenant.integrations.get(spec.kind)
        # A first set-up is turned on by default; otherwise it stays as it was.
        self.toggle.setChecked(saved.enabled if saved is not None and saved.configured else True)
        self.toggle.toggled.connect(self._toggled)
        self.toggled_by_user = False  # a change of its own, asked about on Cancel
        self.toggle.clicked.connect(lambda: setattr(self, "toggled_by_user", True))
        lay.addWidget(self.toggle)
        self.reason = QLabel(self)
        self.reason.setObjectName("closingReason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet(REASON_STYLE)
        lay.addWidget(self.reason)
        lay.addSpacing(12)
        self.check_box = CheckConnectionBox(ctx, self)
        lay.addWidget(self.check_box, 1)

    def initializePage(self) -> None:
        self._toggled(self.toggle.isChecked())

    def _toggled(self, on: bool) -> None:
        self.draft.enabled = on
        self.reason.setText(self.problem())
        self.completeChanged.emit()

    def problem(self) -> str:
        """Why Finish would fail for this integration, or ''."""
        ws, tenant, spec = self.ctx.workspace, self.ctx.tenant, self.ctx.spec
        try:
            state = self.draft.draft_state()
        except XdrconfError as exc:
            return str(exc)
        for name in self.draft.typed_secrets():
            state.secrets.setdefault(name, "(typed)")
        if spec.validate is not None:
            try:
                spec.validate(state.settings, ValidationContext(tenant.is_root, frozenset(state.secrets)))
            except XdrconfError as exc:
                return str(exc)
        if self.toggle.isChecked():
            missing = ws.missing(tenant, spec.kind, state)
            if missing:
                return _(
                    "{integration} cannot be turned on until these are set: {fields}. "
                    "Go Back to enter them, or leave it off."
                ).format(integration=spec.title, fields=", ".join(str(m) for m in missing))
        return ""

    def isComplete(self) -> bool:
        return not self.problem()


class OpeningPage(QWizardPage):
    def __init__(self, wizard: TenantWizard) -> None:
        super().__init__(wizard)
        self.wiz = wizard
        ws, tid = wizard.ws, wizard.tenant_id
        self.setTitle(_("Tenant: {path}").format(path=ws.tree.path(tid)))
        self.setSubTitle(
            _(
                "Choose the integrations to set up for this tenant. Each one gets its "
                "own pages; a summary comes before anything is saved."
            )
        )
        outer = QVBoxLayout(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        inner = QWidget(scroll)
        grid = QFormLayout(inner)
        grid.setVerticalSpacing(6)
        self.boxes: dict[str, QCheckBox] = {}
        tenant = ws.tree.get(tid)
        for spec in catalog.all_specs():
            box = QCheckBox(_(spec.title), inner)
            box.setObjectName(f"choose_{spec.kind}")
            if spec.supported:
                state = tenant.integrations.get(spec.kind)
                if state is None or not state.configured:
                    status = _("not configured")
                elif state.enabled:
                    status = _("on, configured")
                else:
                    status = _("off, configured")
                box.setToolTip(_(spec.description))
                box.toggled.connect(lambda on, kind=spec.kind: self._toggled(kind, on))
            else:
                box.setEnabled(False)
                status = _("not yet supported")
            note = QLabel(status, inner)
            note.setStyleSheet(HELP_STYLE)
            grid.addRow(box, note)
            self.boxes[spec.kind] = box
        scroll.setWidget(inner)
        outer.addWidget(scroll)

    def _toggled(self, kind: str, on: bool) -> None:
        if on:
            try:
                self.wiz.ensure_pages(kind)
            except Exception as exc:
                log.exception("building the %s pages failed", kind)
                self.boxes[kind].setChecked(False)
                show_error(self, exc)
                return
        self.completeChanged.emit()

    def chosen(self) -> list[str]:
        return [k for k, box in self.boxes.items() if box.isChecked()]

    def isComplete(self) -> bool:
        return bool(self.chosen())


class SummaryPage(QWizardPage):
    def __init__(self, wizard: TenantWizard) -> None:
        super().__init__(wizard)
        self.wiz = wizard
        self.setTitle(_("Summary"))
        self.setSubTitle(_("What Finish will change. Secret values are never shown."))
        lay = QVBoxLayout(self)
        self.text = QLabel(self)
        self.text.setObjectName("summaryText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.text)
        lay.addWidget(scroll, 1)
        self.error = QLabel(self)
        self.error.setObjectName("applyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(REASON_STYLE)
        lay.addWidget(self.error)
        self.lines: dict[str, list[str]] = {}

    def initializePage(self) -> None:
        self.error.setText("")
        vault = self.wiz.ws.secrets.in_vault
        self.lines = {kind: self.wiz.drafts[kind].summary(in_vault=vault) for kind in self.wiz.chosen()}
        parts = []
        for kind, lines in self.lines.items():
            title = html.escape(str(catalog.title_of(kind)))
            if lines:
                items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
                parts.append(f"<p><b>{title}</b></p><ul style='margin-top:0'>{items}</ul>")
            else:
                parts.append(
                    "<p>" + _("{integration}: no changes.").format(integration=f"<b>{title}</b>") + "</p>"
                )
        if not any(self.lines.values()):
            parts.append("<p>" + html.escape(_("Nothing will change.")) + "</p>")
        self.text.setText("".join(parts))


class TenantWizard(QWizard):
    """Set up integrations of one tenant. `applied` is emitted after Finish saved."""

    applied = Signal()
    OPENING = 0
    SUMMARY = 1

    def __init__(
        self,
        ws: Workspace,
        tenant_id: str,
        *,
        start_kind: str | None = None,
        parent: QWidget | None = None,
        runner: Callable[..., workers.Task] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ws = ws
        self.tenant_id = tenant_id
        self.runner = runner
        self.drafts: dict[str, IntegrationDraft] = {}
        self.contexts: dict[str, IntegrationUiContext] = {}
        self.kind_pages: dict[str, list[int]] = {}
        # kind -> the kind whose pages its pages follow (chosen through a page's related link)
        self.follows: dict[str, str] = {}
        self._next_id = 10
        self.applying = False
        self.setObjectName("tenantWizard")
        self.setWindowTitle(_("Set up integrations — {tenant}").format(tenant=ws.tree.get(tenant_id).name))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, False)
        self.setMinimumSize(MIN_WIZARD_SIZE[0], MIN_WIZARD_SIZE[1])
        self.resize(760, 600)
        self.discard_box: Any = None
        self._subtitle: tuple[QLabel, QWidget, int, int] | None = None  # see fit_subtitle()
        self.currentIdChanged.connect(lambda _id: self.fit_subtitle())
        self.opening = OpeningPage(self)
        self.summary = SummaryPage(self)
        self.setPage(self.OPENING, self.opening)
        self.setPage(self.SUMMARY, self.summary)
        if start_kind is not None:
            spec = catalog.spec_for(start_kind)
            if not spec.supported:
                raise ValidationError(spec.title, _("is not yet supported and cannot be configured"))
            self.opening.boxes[start_kind].setChecked(True)
            self.setStartId(self.kind_pages[start_kind][0])

    def fit_subtitle(self) -> None:
        """Room in the header for the whole subtitle: Qt's header keeps the height of two
        lines and cuts a longer one (a Russian subtitle often takes three)."""
        page = self.currentPage()
        text = page.subTitle() if page is not None else ""
        if self._subtitle is None and text:
            for label in self.findChildren(QLabel):
                # The header's subtitle label: Qt's, outside every page, showing the subtitle.
                header = label.parentWidget()
                if (
                    header is not None
                    and label.text() == text
                    and label.wordWrap()
                    and not any(self.page(i).isAncestorOf(label) for i in self.pageIds())
                ):
                    self._subtitle = (label, header, label.height(), header.height())
                    break
        if self._subtitle is None:
            return
        label, header, label_height, header_height = self._subtitle
        extra = label.heightForWidth(label.width()) - label_height if text else 0
        label.setMinimumHeight(label_height + extra if extra > 0 else 0)
        header.setMinimumHeight(header_height + extra if extra > 0 else 0)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit_subtitle()

    # ---- pages of the integrations --------------------------------------------------------
    def ensure_pages(self, kind: str) -> list[int]:
        if kind in self.kind_pages:
            return self.kind_pages[kind]
        spec = catalog.spec_for(kind)
        tenant = self.ws.tree.get(self.tenant_id)
        draft = IntegrationDraft.for_state(spec, tenant.integrations.get(kind))
        ctx = IntegrationUiContext(
            self.ws, self.tenant_id, kind, spec, parent=self, draft=draft, runner=self._runner
        )
        ctx.form_page = lambda page: SpecFormPage(ctx, page)
        pages = integrations.wizard_pages(ctx)
        if pages is None:
            pages = [SpecFormPage(ctx, page) for page in spec.pages]
        pages.append(IntegrationClosingPage(ctx))
        ids = []
        for page in pages:
            self.setPage(self._next_id, page)
            ids.append(self._next_id)
            self._next_id += 1
        self.drafts[kind], self.contexts[kind], self.kind_pages[kind] = draft, ctx, ids
        return ids

    def _runner(
        self, fn: Callable[..., Any], on_done: Any = None, on_error: Any = None, **kw: Any
    ) -> workers.Task:
        if self.runner is not None:
            return self.runner(fn, on_done, on_error, **kw)
        checks = kw.pop("checks", False)
        pool = workers.check_pool() if checks else workers.general_pool()
        return workers.run_in_background(fn, on_done, on_error, pool=pool, owner=self, **kw)

    def chosen(self) -> list[str]:
        """The chosen kinds in the order of their pages: the product's order, except that a
        kind added through another's related link comes right after that one."""
        picked = self.opening.chosen()
        order: list[str] = []

        def place(kind: str) -> None:
            order.append(kind)
            for other in picked:
                if self.follows.get(other) == kind and other not in order:
                    place(other)

        for kind in picked:
            if self.follows.get(kind) not in picked and kind not in order:
                place(kind)
        order.extend(k for k in picked if k not in order)  # (kinds that would follow each other)
        return order

    def add_related(self, kind: str, after: str) -> None:
        """Choose `kind` too (a page's related link), its pages right after those of `after`;
        a kind chosen already keeps its place."""
        box = self.opening.boxes.get(kind)
        if box is None or not box.isEnabled() or box.isChecked():
            return
        self.follows[kind] = after
        box.setChecked(True)

    def sequence(self) -> list[int]:
        ids = [self.OPENING]
        for kind in self.chosen():
            ids.extend(self.ensure_pages(kind))
        ids.append(self.SUMMARY)
        return ids

    def nextId(self) -> int:
        seq = self.sequence()
        current = self.currentId()
        if current not in seq:
            return -1
        i = seq.index(current)
        return seq[i + 1] if i + 1 < len(seq) else -1

    def page_of(self, kind: str, n: int = 0) -> QWizardPage:
        return self.page(self.ensure_pages(kind)[n])

    # ---- finish ----------------------------------------------------------------------------
    def edits(self) -> list[Any]:
        out = []
        for kind in self.chosen():
            edit = self.drafts[kind].edit()
            if edit is not None:
                out.append(edit)
        return out

    def accept(self) -> None:
        if self.applying:
            return
        try:
            edits = self.edits()
        except XdrconfError as exc:
            self.summary.error.setText(str(exc))
            return
        if not edits:
            super().accept()
            return
        self.accept_edits(edits)

    def accept_edits(self, edits: list[Any]) -> None:
        """Save the edits at once in a worker; the wizard closes when they are saved."""
        self.applying = True
        self._set_buttons(False)
        self.summary.error.setText(_("Saving…"))
        tid = self.tenant_id

        def done(_result: Any) -> None:
            self.applying = False
            self._set_buttons(True)
            self.applied.emit()
            QWizard.accept(self)

        def failed(exc: BaseException) -> None:
            self.applying = False
            self._set_buttons(True)
            if isinstance(exc, SecretsWouldFollow) and not any(e.keep_secrets for e in edits):
                # Stored secrets would go to a new target: only if the user says so (default No).
                if Prompts(self).confirm_follow(exc.following):
                    self.accept_edits([dataclasses.replace(e, keep_secrets=True) for e in edits])
                    return
                self.summary.error.setText(
                    _(
                        "Nothing was saved: the stored secrets stay with their target. Enter them again "
                        "to use them at the new one, or Finish again and confirm."
                    )
                )
                return
            self.summary.error.setText(_("Nothing was saved: {error}").format(error=error_text(exc)))

        self._runner(lambda: self.ws.update_integrations(tid, edits), done, failed)

    def _set_buttons(self, on: bool) -> None:
        for which in (
            QWizard.WizardButton.BackButton,
            QWizard.WizardButton.FinishButton,
            QWizard.WizardButton.CancelButton,
        ):
            self.button(which).setEnabled(on)

    def unsaved_changes(self) -> list[str]:
        """Titles of the chosen integrations with something typed that Cancel would drop."""
        out = []
        for kind in self.chosen():
            draft = self.drafts[kind]
            try:
                values = bool(draft.changed_values())
            except XdrconfError:
                values = True  # typed, even if not valid yet
            structured = any(draft.stored.settings.get(k) != v for k, v in draft.structured.items())
            closing = self.page(self.kind_pages[kind][-1])
            toggled = isinstance(closing, IntegrationClosingPage) and closing.toggled_by_user
            if values or draft.secrets or structured or (toggled and draft.edit() is not None):
                out.append(str(catalog.title_of(kind)))
        return out

    def reject(self) -> None:
        if self.applying:
            return  # the save is under way; it either completes or changes nothing
        changed = self.unsaved_changes()
        if not changed:
            super().reject()
            return
        if self.discard_box is not None:
            return  # already asking
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Discard the changes?"),
            _("Nothing has been saved yet. Discard what you entered for {integrations}?").format(
                integrations=", ".join(changed)
            ),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("discardChanges")
        box.button(QMessageBox.StandardButton.Cancel).setText(_("Keep editing"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def answered(button: Any) -> None:
            self.discard_box = None
            if box.standardButton(button) == QMessageBox.StandardButton.Discard:
                QWizard.reject(self)

        box.buttonClicked.connect(answered)
        box.rejected.connect(lambda: setattr(self, "discard_box", None))
        self.discard_box = box
        box.open()
