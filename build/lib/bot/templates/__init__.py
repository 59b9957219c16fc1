"""The text templates (Jinja2) and the sandbox page, shipped inside the package as `bot.templates` (see bot/resources.py)."""
