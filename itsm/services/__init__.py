"""Use cases, one module per aggregate. They take a session and plain arguments; the caller
(request, job, CLI) opens and commits the transaction."""
