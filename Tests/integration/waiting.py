"""The bounded waits the integration tests share."""
import subprocess
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


def stop_process(process, timeout=10):
    """Stops a helper process (a balancer, a browser, a shell): SIGTERM, then SIGKILL if it has not
    exited after `timeout` seconds; returns its exit code."""
    process.terminate()
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def wait_for_replication(s3, bucket, key, want="COMPLETED", timeout=90, every=0.2, **head):
    """Waits until HEAD of `key` reports the replication status `want` (keyword arguments such as
    VersionId go to head_object) and returns it; after `timeout` seconds, an AssertionError that
    names the last status seen. The one replication wait of the tier tests."""
    seen = {}

    def reached():
        seen["status"] = s3.head_object(Bucket=bucket, Key=key, **head).get("ReplicationStatus")
        return seen["status"] == want

    try:
        wait_for(reached, timeout=timeout, every=every)
    except AssertionError:
        raise AssertionError(f"{key}: replication status {seen.get('status')}, wanted {want} after {timeout}s") from None
    return want
