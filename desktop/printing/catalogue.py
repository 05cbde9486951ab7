"""Every printable form of the app: importing a form's module registers it, one line per area.

Callers import the registry's functions from here so that the forms are loaded first.
"""

from __future__ import annotations

from desktop.printing import (  # noqa: F401 - each registers its form
    door_to_door_print,
    followup_print,
    profile_print,
    self_care_print,
)
from desktop.printing.registry import (
    FormOption,
    PrintForm,
    Printout,
    get_form,
    print_form,
    register_form,
    registered_forms,
    unregister_form,
)

__all__ = ["FormOption", "PrintForm", "Printout", "get_form", "print_form", "register_form", "registered_forms",
           "unregister_form"]
