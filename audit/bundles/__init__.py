"""Review bundles: export, check what comes in (schema, then references), merge record by record."""
