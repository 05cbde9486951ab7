"""Printed forms (reportlab, with the bundled CJK font embedded): follow-up records, the self-care sheet.

Every form is registered in `desktop.printing.registry` by its own module and loaded by
`desktop.printing.catalogue`; print through `catalogue.print_form` (or `service`'s named
functions). This package's modules load reportlab only when a document is actually built.
"""
