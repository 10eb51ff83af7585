"""`vault revoke` and `vault outbox`: taking back what a site was told, and delivering the notice."""

COMMANDS: list = []
