"""CRM connectors (HubSpot, Salesforce, Standard Webhooks) behind one port. Empty for now.

May import: `bot.config`, `bot.handoffs`, `bot.reports`, `bot.messaging`, `store`.
"""
