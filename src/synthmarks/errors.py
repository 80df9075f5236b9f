"""The one exception type that the CLI turns into a one-line message and a non-zero exit."""


class SynthmarksError(Exception):
    """A problem with the user's input (path, file, config) rather than a bug.

    The CLI prints ``synthmarks: error: <message>`` and exits with status 2; anything else is a
    bug and keeps its traceback.
    """


class SynthmarksWarning(UserWarning):
    """Something worth telling the user that does not stop the work (e.g. a model that lacks an
    asked-for output, answered with the nearest one it has)."""
