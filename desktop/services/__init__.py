"""Services: the only code that opens sessions and writes. One module per area."""
