"""The hand-off workflow: what happens to a lead, with no Slack, no argparse and no print.

- `inputs`: what intake accepts (the API's bodies and a file's rows, one model);
- `intake`: leads and activities in -> stored, scored, handed off when they qualify;
- `routing`: round robin among the eligible reps; `assignment`: pending hand-offs with
  deadlines and their cards queued; `reassign`: a pending lead moved to another rep;
- `decisions`: accept, reject, claim, and the manager's actions;
- `calendar`, `deadlines`: business time and each tier's response deadline;
- `sweep`: reminders and escalations as deadlines pass;
- `cards`: what a lead's card says; `queue`: what a rep (or a manager's team) has waiting;
- `outcomes`: opportunities and wins coming back; `team`: reps in step with the config,
  out of office.

Functions take a session and `now` and return data (who, what, when); messages go out
through the outbox (`store.outbox`), rendered by the chat surface.
May import: `bot.config`, `scoring`, `store`.
"""
