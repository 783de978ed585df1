"""nodes/http_client.py's request preparation: a URL that requests would prepare unchanged is taken as it is, and
only such a URL (compared with PreparedRequest.prepare_url on generated URLs)."""
import random

import pytest
import requests

from nodes import http_client

ALLOWED = list("abcxyzAZ09-._~!$&'()*+,;=:@/") + ["%20", "%2F", "%41", "%7E", "%25", "%3F", "%C3%A9", "%2E", "%5F", ".",
                                                 "..", "//"]
ANY = ALLOWED + list("?#[] \"<>\\^`{|}%") + ["%2f", "%zz", "%4", "/./", "/../", "/.", "/..", "é", "\t", "??"]


def _urls(seed, count, parts, hosts, ports):
    rnd = random.Random(seed)
    for _ in range(count):
        url = rnd.choice(["http://", "https://", "HTTP://"]) + rnd.choice(hosts) + rnd.choice(ports)
        url += "/" * rnd.randint(0, 1) + "".join(rnd.choice(parts) for _ in range(rnd.randint(0, 10)))
        if rnd.random() < 0.5:
            url += "?" + "".join(rnd.choice(parts + ["=", "&", "?"]) for _ in range(rnd.randint(0, 8)))
        yield url


def prepared_by_requests(url):
    p = requests.PreparedRequest()
    try:
        p.prepare_url(url, None)
    except requests.RequestException as err:
        return err
    return p.url


@pytest.mark.parametrize("parts,hosts,ports", [
    (ALLOWED, ["127.0.0.1", "example.com", "a-b.c9", "x", "sub.a1.io"], ["", ":80", ":1", ":65535", ":8080"]),
    (ANY, ["127.0.0.1", "example.com", "Example.com", "-a.b", "a..b", "a.b.", "[::1]", "h_o", "b\u00fccher.ch", "u@h", "*.h"],
     ["", "", ":0", ":080", ":65536", ":", ":8a", ":443"]),
])
def test_a_url_taken_as_it_is_is_what_requests_prepares(parts, hosts, ports):
    taken = 0
    for url in _urls(3, 6000, parts, hosts, ports):
        if http_client.prepared_as_is(url):
            taken += 1
            assert prepared_by_requests(url) == url, url
    assert taken > 10  # some generated URLs were taken as they are


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/wms/api/shipping-orders?orderNumber=SO-1001", "https://erp.example.com/api/sales-orders",
    "http://h/orders/5001001", "http://h/a?q=%23100%20x"])
def test_connector_urls_are_taken_as_they_are(url):
    assert http_client.prepared_as_is(url) and prepared_by_requests(url) == url


@pytest.mark.parametrize("url", [
    "http://Host/a", "http://h/a/../b", "http://h/a?", "http://h/%41", "http://h/%2f", "http://h/a#f", "http://u@h/",
    "http://h:0/", "http://h:65536/", "http://h", "http://h/a b", "http://h/é"])
def test_urls_requests_would_change_go_through_requests(url):
    assert not http_client.prepared_as_is(url)
    expected = prepared_by_requests(url)
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)):
            http_client._prepared("GET", url, {}, {})
    else:
        assert http_client._prepared("GET", url, {}, {}).url == expected


def test_user_info_in_a_url_still_becomes_basic_auth():
    prepared = http_client._prepared("GET", "http://u:p@127.0.0.1/x", {}, {})
    assert prepared.headers["Authorization"] == "Basic dTpw"  # as requests prepares it
