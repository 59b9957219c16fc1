"""Reports: the weekly digest, the score-to-revenue report, the digest's chart, and the
one formatting module (durations, percentages, amounts, tier names) every surface uses.

May import: `bot.config`, `bot.handoffs`, `scoring`, `store`. Reports never open the
database themselves: callers hand them a session.
"""
