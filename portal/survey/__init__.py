"""\"Was this helpful?\": candidates rate their feedback, apart from their identity."""
