"""The one bounded wait the integration tests share."""
import time


def wait_for(predicate, timeout=30, what="condition", every=0.2):
    """Calls `predicate` every `every` seconds until it returns something true, and returns that;
    after `timeout` seconds, an AssertionError that names `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)
