"""A filtered search in the console's recordings list walks a bounded number of keys per page
(RecordingsPages.scanLimit, 2,000), however large the bucket: a search that matches nothing in
2,300 recordings answers a page with no rows and a link that continues after the last key it
walked, and that link's page walks the rest and ends the search. This is what lets a bucket of a
million recordings be searched without one request loading it (issue 20 item 3)."""
import re
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import signed_in_session

RECORDINGS = 2300
SCAN_LIMIT = 2000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = tmp_path_factory.mktemp("console-paging") / "depot.yaml"
    config.write_text("buckets: [rec]\n")
    server = DepotServer(config=str(config)).start()
    client = server.client()
    keys = [f"site/clip-{i:05d}.mp4" for i in range(RECORDINGS)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket="rec", Key=key, Body=b"x"), keys))
    yield server
    server.cleanup()


def next_link(page):
    found = re.search(r'<a rel="next" id="next-page" href="([^"]+)"', page)
    return found and found.group(1).replace("&amp;", "&")


def test_a_search_that_matches_nothing_walks_a_bounded_page_and_continues_where_it_stopped(server):
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    query = urllib.parse.urlencode({"bucket": "rec", "prefix": "site/", "camera": "no-such-camera"})
    first = session.get(f"{server.endpoint}/console/list?{query}", timeout=30)
    assert first.status_code == 200, first.text
    assert 'class="key"' not in first.text  # no recording matched
    link = next_link(first.text)
    assert link, "a search that stopped at its bound must offer to continue"
    after = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["after"][0]
    # The token is the hex of the last key walked: the bound's key, not the bucket's end.
    assert bytes.fromhex(after).decode() == f"site/clip-{SCAN_LIMIT - 1:05d}.mp4"
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["camera"] == ["no-such-camera"]
    second = session.get(server.endpoint + link, timeout=30)
    assert second.status_code == 200, second.text
    assert 'class="key"' not in second.text and next_link(second.text) is None
    # Without a filter, the same bucket pages 50 rows at a time from the first key.
    plain = session.get(f"{server.endpoint}/console/list?bucket=rec&prefix=site/", timeout=30).text
    assert plain.count('class="key"') == 50 and "site/clip-00049.mp4" in plain and "site/clip-00050.mp4" not in plain
    after = urllib.parse.parse_qs(urllib.parse.urlsplit(next_link(plain)).query)["after"][0]
    assert bytes.fromhex(after).decode() == "site/clip-00049.mp4"


def test_a_page_token_the_console_did_not_write_is_refused(server):
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    refused = session.get(f"{server.endpoint}/console/list?bucket=rec&prefix=site/&after=zz-not-hex", timeout=10)
    assert refused.status_code == 400 and "page token" in refused.text
