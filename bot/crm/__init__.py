"""The CRMs and webhooks: HubSpot in (signed webhooks become leads, activities and
outcomes) and out (owner, lead status, notes), Salesforce out (owner, status, Tasks),
signed Standard Webhooks both ways, all sent from the outbox by their own job.

May import: `bot.config`, `bot.handoffs`, `bot.reports`, `bot.messaging`, `store`.
"""
