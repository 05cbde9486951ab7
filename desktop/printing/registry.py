"""Printable forms: one registry and one way to print any of them.

A form is registered once (`register_form`) by the module that loads its data; the command line
(`township-desk print FORM KEY`), the window's preview and the tests all print through
`PrintForm.build`, which checks the form's permission and the village scope of the person the
paper is about, lays the form out, writes the PDF and audits the print (Action.PRINT); a print
refused for scope or role is audited too (Action.REFUSED, see services/access_audit.py).
Importing `desktop.printing.catalogue` loads every form of the app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.printing.pdf import render_pdf
from desktop.printing.sheet import PrintedPdf, Sheet
from desktop.services import audit
from desktop.services.access_audit import refusals_audited
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require


@dataclass(frozen=True)
class FormOption:
    """One input a form needs besides its key; on the command line it is `--name VALUE`."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    required: bool = True
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Printout:
    """A form laid out from the database: its pages, the PDF's title and what the audit entry says.

    `village_id` is the village of the person the paper is about (None when it is about nobody in
    particular); printing is refused to anyone who may not see that village's people.
    """

    sheets: Sequence[Sheet]
    title: str
    village_id: int | None
    entity_type: str
    entity_id: str
    summary: str


Loader = Callable[..., Printout]  # (session, actor, key, **options) -> Printout, inside one read
ExampleFinder = Callable[[Session], tuple[str, dict[str, Any]] | None]


@dataclass(frozen=True)
class PrintForm:
    """A printable form: `key` names it on the command line, `label` is its Chinese title."""

    key: str
    label: str
    permission: Permission
    key_help: str
    load: Loader
    key_metavar: str = "KEY"
    options: tuple[FormOption, ...] = ()
    example: ExampleFinder | None = None  # a key and options that print from a given database

    def build(self, db: Database, actor: Actor, key: str, **options: Any) -> PrintedPdf:
        """Check permission and scope, lay the form out, write the PDF and audit the print (or its refusal)."""
        self._check_options(options)
        with refusals_audited(db, actor, f"打印{self.label}（{key}）"):
            require(actor, self.permission)
            with db.read() as session:
                printout = self.load(session, actor, key, **options)
            if printout.village_id is not None:
                ensure_in_scope(actor, printout.village_id)
        pdf = render_pdf(printout.sheets, printout.title)
        with db.write() as session:
            audit.record(session, actor, Action.PRINT, entity_type=printout.entity_type,
                         entity_id=printout.entity_id, summary=printout.summary)
        return pdf

    def _check_options(self, options: Mapping[str, Any]) -> None:
        known = {option.name for option in self.options}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"form {self.key} has no option {', '.join(unknown)}")
        missing = [option.name for option in self.options if option.required and options.get(option.name) is None]
        if missing:
            raise TypeError(f"form {self.key} needs {', '.join(missing)}")


_FORMS: dict[str, PrintForm] = {}


def register_form(form: PrintForm) -> PrintForm:
    """Add a form to the registry (a second, different form under the same key is a bug)."""
    if _FORMS.get(form.key, form) is not form:
        raise ValueError(f"print form {form.key} registered twice")
    _FORMS[form.key] = form
    return form


def unregister_form(key: str) -> None:
    """Take a form out of the registry (for forms added at run time, such as a test's)."""
    _FORMS.pop(key, None)


def registered_forms() -> list[PrintForm]:
    """Every registered form, in the order they were registered."""
    return list(_FORMS.values())


def get_form(key: str) -> PrintForm:
    """The form registered under `key`."""
    form = _FORMS.get(key)
    if form is None:
        raise UserFacingError(f"没有名为“{key}”的表单。")
    return form


def print_form(db: Database, actor: Actor, form_key: str, key: str, **options: Any) -> PrintedPdf:
    """Print the form `form_key` for `key` (see `PrintForm.build`)."""
    return get_form(form_key).build(db, actor, key, **options)
