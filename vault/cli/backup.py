"""`vault export`, `vault backup`, `vault restore`."""

COMMANDS: list = []
