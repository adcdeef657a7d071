"""Backup agent tests: the agent's modules run on plain directories (no database, no root)."""
