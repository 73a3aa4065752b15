"""Officials' accounts for the pages under /admin: roles, passwords, one-time links, login sessions."""
