"""Example configs and lead files, shipped inside the package as `bot.examples` (see bot/resources.py)."""
