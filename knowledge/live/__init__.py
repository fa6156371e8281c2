"""Live checks against the admin's own tenant (Partner Center, Power Automate, Dataverse, Salesforce)."""
