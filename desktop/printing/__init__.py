"""Printed forms (reportlab, with the bundled CJK font embedded): follow-up records and the self-care sheet.

Import the functions from `desktop.printing.service`; this package's modules load reportlab
only when a document is actually built.
"""
