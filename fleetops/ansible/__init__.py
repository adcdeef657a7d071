"""Ansible inventories and vault as they are: read through ``ansible-inventory`` in a subprocess
(ansible-core's process-wide side effects and GPL code stay out of fleetops), vault values
decrypted by fleetops' own decryptor and registered as secrets."""
