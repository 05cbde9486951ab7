"""Pure rules: no database, no Qt. Each function takes values and returns values."""
