"""Persistence: engine setup, tables, query functions and migrations. Never imports bot."""
