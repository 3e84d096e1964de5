"""The one exception the command line turns into a clear message instead of a traceback."""


class InputError(Exception):
    """Input the pipeline cannot use: the message is Chinese (English in brackets), names the file
    and, where there is one, the row and column, and says why."""
