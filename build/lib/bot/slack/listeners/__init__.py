"""Bolt listeners, each module with `register(app)`: card buttons and the reject dialog
(`decisions`), App Home (`home`), the `/handoff` command (`commands`)."""
