"""Reusable pyinfra ``@deploy`` roles. Each reads its validated group data (``spec``) and calls
pyinfra operations; deploy files in ``deploys/`` compose them."""
