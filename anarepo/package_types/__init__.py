"""Built-in package types; each is a plugin shaped like a third-party one."""
