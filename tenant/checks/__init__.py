"""The live checks, one module per area of the tenant; `catalog.all_checks()` lists them in sweep order. A check
computes facts from the clients and returns a `CheckResult`; it never changes the tenant."""
