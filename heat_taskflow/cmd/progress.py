"""Showing a running stack operation: one line per event and, on a terminal, a progress bar."""

import threading

from rich import console as rich_console
from rich import progress as rich_progress


def format_event(event):
    """One line for an event: time, [resource], status, reason and (done/total) when known."""
    line = '%s [%s]: %s' % (event.get('event_time') or '-', event.get('resource_name') or '-',
                            event.get('resource_status') or '-')
    reason = event.get('resource_status_reason')
    if reason:
        line += '  %s' % reason
    done_total = _done_total(event)
    if done_total is not None:
        line += '  (%d/%d)' % done_total
    return line


def _done_total(event):
    progress = event.get('progress')
    if not progress or len(progress) != 2 or None in progress:
        return None
    return int(progress[0]), int(progress[1])


def _is_terminal(stream):
    isatty = getattr(stream, 'isatty', None)
    try:
        return bool(isatty and isatty())
    except ValueError:      # closed stream
        return False


class EventDisplay:
    """The ``on_event`` callback for --wait: prints events as they are recorded.

    Safe to call from the engine's worker threads; an event seen twice (by id) prints once.
    Use as a context manager so the progress bar is stopped cleanly.
    """

    def __init__(self, stream, title='', bar=None):
        self._stream = stream
        self._title = title
        self._bar = _is_terminal(stream) if bar is None else bar
        self._lock = threading.Lock()
        self._seen = set()
        self._progress = None
        self._task = None

    def __enter__(self):
        if self._bar:
            console = rich_console.Console(file=self._stream, force_terminal=True)
            self._progress = rich_progress.Progress(
                rich_progress.TextColumn('{task.description}'),
                rich_progress.BarColumn(),
                rich_progress.MofNCompleteColumn(),
                rich_progress.TimeElapsedColumn(),
                console=console)
            self._progress.start()
            self._task = self._progress.add_task(self._title, total=None)
        return self

    def __exit__(self, *exc_info):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, event):
        with self._lock:
            event_id = event.get('id')
            if event_id is not None:
                if event_id in self._seen:
                    return
                self._seen.add(event_id)
            line = format_event(event)
            if self._progress is None:
                self._stream.write(line + '\n')
                self._stream.flush()
                return
            self._progress.console.print(line, markup=False, highlight=False)
            done_total = _done_total(event)
            if done_total is not None:
                self._progress.update(self._task, completed=done_total[0], total=done_total[1])

    def message(self, text):
        """Print a line (the final status) after the events."""
        with self._lock:
            if self._progress is not None:
                self._progress.console.print(text, markup=False, highlight=False)
            else:
                self._stream.write(text + '\n')
                self._stream.flush()
