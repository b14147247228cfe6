"""Errors users see as one line, never as a traceback."""


class UserError(Exception):
    """Bad input or environment: the message is printed as is, exit status non-zero.

    The message names the file or URL and the reason, so it stands on its own in
    a log or a newsroom's cron mail.
    """
