"""``smgp``: the portal's command-line client. It talks to the portal's REST API only, with an API token."""
