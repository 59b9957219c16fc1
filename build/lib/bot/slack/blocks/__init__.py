"""Block Kit, built by pure functions from the workflow's data: lead cards and the reject
dialog (`cards`), the weekly digest (`digest`)."""
